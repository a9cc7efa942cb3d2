"""The Google connectors' error messages in English and Brazilian Portuguese, keyed by code."""

from docg.connectors.errors import MessageCatalog

# code → (English, Brazilian Portuguese); `{summary}` says what was asked and what Google answered.
MESSAGES = {
    "oauth_expired": (
        "Google refused the connection's sign-in ({summary}): reconnect the Google connection.",
        "O Google recusou o acesso da conexão ({summary}): conecte a conta Google de novo.",
    ),
    "drive.insufficient_permissions": (
        "The Google account has no permission to use {summary}: share it with the account or grant the access.",
        "A conta Google não tem permissão para usar {summary}: compartilhe com a conta ou conceda o acesso.",
    ),
    "google.not_found": (
        "Google could not find {summary}: check the id and that the account can see it.",
        "O Google não encontrou {summary}: verifique o id e se a conta consegue vê-lo.",
    ),
    "template.not_found": (
        "Google could not find {summary}: choose the template again.",
        "O Google não encontrou {summary}: escolha o modelo de novo.",
    ),
    "rate_limit": (
        "Google is limiting requests ({summary}); docg will try again.",
        "O Google está limitando as requisições ({summary}); o docg tentará de novo.",
    ),
    "google.unavailable": (
        "Could not get an answer from Google ({summary}); docg will try again.",
        "Não foi possível obter resposta do Google ({summary}); o docg tentará de novo.",
    ),
    "google.rejected": ("Google refused the request ({summary}).", "O Google recusou a requisição ({summary})."),
}

_CATALOG = MessageCatalog(MESSAGES)
google_error = _CATALOG.error
translate = _CATALOG.translate
