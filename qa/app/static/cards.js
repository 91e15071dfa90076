element.addEventListener('click', async (e) => {
  const view = e.target.closest('[data-view]');
  if (view) { trigger('click', JSON.parse(view.dataset.view)); return; }
  const copy = e.target.closest('[data-copy]');
  if (!copy) return;
  const text = copy.dataset.copy;
  try { await navigator.clipboard.writeText(text); }
  catch (err) {
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand('copy'); area.remove();
  }
  const label = copy.textContent; copy.textContent = 'Copied ✓';
  setTimeout(() => { copy.textContent = label; }, 1500);
});
// An answer's [n] in the conversation: remember n; the click also selects the message, whose
// cards the server sends back, and focus-citation.js then brings card n into view.
if (!window.__qaCiteListener) {
  window.__qaCiteListener = true;
  document.addEventListener('click', (e) => {
    const mark = e.target.closest('#chat strong');
    const m = mark && mark.textContent.trim().match(/^\[(\d+)\]$/);
    if (m) window.__qaCite = m[1];
  }, true);
}
