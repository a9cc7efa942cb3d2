// Forms that change something that cannot be undone ask first: <form data-confirm="Question?">.
// Loaded on every page (base.html), so a partial's confirm works wherever the partial is used.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
