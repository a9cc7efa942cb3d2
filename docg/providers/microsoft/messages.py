"""The Microsoft connectors' error messages in English and Brazilian Portuguese.

`{summary}` carries what was asked of Graph and what it answered (status, Graph's
error code and message), so support can read it in either language.
"""

from docg.connectors.errors import ConnectorError, MessageCatalog

MESSAGES = {
    "oauth_expired": (
        "Microsoft no longer accepts the connection's sign-in ({summary}): reconnect the Microsoft account.",
        "A Microsoft não aceita mais o login da conexão ({summary}): conecte a conta Microsoft de novo.",
    ),
    "microsoft.insufficient_permissions": (
        "The Microsoft account lacks a permission docg needs ({summary}): reconnect it and accept every permission "
        "docg asks for (files and mail), or ask your Microsoft 365 administrator to allow them.",
        "A conta Microsoft não tem uma permissão de que o docg precisa ({summary}): conecte-a de novo aceitando "
        "todas as permissões pedidas (arquivos e e-mail), ou peça ao administrador do Microsoft 365 que as libere.",
    ),
    "microsoft.not_found": (
        "Microsoft could not find what docg asked for ({summary}): check the drive, folder or mailbox.",
        "A Microsoft não encontrou o que o docg pediu ({summary}): verifique o drive, a pasta ou a caixa de e-mail.",
    ),
    "microsoft.conflict": (
        "Microsoft reported a conflict with another change ({summary}); docg will try again.",
        "A Microsoft informou um conflito com outra alteração ({summary}); o docg tentará de novo.",
    ),
    "rate_limit": (
        "Microsoft is limiting requests ({summary}); docg will try again.",
        "A Microsoft está limitando as requisições ({summary}); o docg tentará de novo.",
    ),
    "microsoft.unavailable": (
        "Microsoft is unavailable right now ({summary}); docg will try again.",
        "A Microsoft está indisponível agora ({summary}); o docg tentará de novo.",
    ),
    "microsoft.timeout": (
        "Microsoft did not answer in time ({summary}); docg will try again.",
        "A Microsoft não respondeu a tempo ({summary}); o docg tentará de novo.",
    ),
    "microsoft.rejected": (
        "Microsoft refused the request ({summary}).",
        "A Microsoft recusou a requisição ({summary}).",
    ),
    "microsoft.bad_response": (
        "Microsoft answered with something docg did not expect ({summary}).",
        "A Microsoft respondeu algo que o docg não esperava ({summary}).",
    ),
    "microsoft.attachments_too_large": (
        "The attachments are too large for Outlook to send in one message ({summary}).",
        "Os anexos são grandes demais para o Outlook enviar numa só mensagem ({summary}).",
    ),
}

_CATALOG = MessageCatalog(MESSAGES)
microsoft_error = _CATALOG.error


def translate(error: ConnectorError, language: str) -> str:
    return _CATALOG.translate(error, language)
