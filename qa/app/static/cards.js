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
