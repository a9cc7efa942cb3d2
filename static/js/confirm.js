// Forms that change something that cannot be undone ask first: <form data-confirm="Question?">.
// Loaded on every page (base.html), so a partial's confirm works wherever the partial is used.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// <button type="button" data-copy="input-id" data-copied="Copied">: copies a readonly input's value
// (the webhook URLs on the connections page). The input stays selectable where the clipboard is refused.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  const input = button && document.getElementById(button.dataset.copy);
  if (!input) return;
  input.select();
  const done = () => { if (button.dataset.copied) button.firstChild.textContent = button.dataset.copied; };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(input.value).then(done, () => {});
  else if (document.execCommand("copy")) done();
});
