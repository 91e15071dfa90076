() => {
  // After a click on an answer's [n]: bring that card of the answer's own cards into view.
  const n = window.__qaCite; window.__qaCite = null;
  if (!n) return;
  let tries = 0;
  const go = () => {
    const card = document.querySelector(`#citations #cite-${n}`);
    if (card) {
      card.scrollIntoView({block: 'nearest'});
      card.classList.add('focus'); card.focus({preventScroll: true});
      setTimeout(() => card.classList.remove('focus'), 1500);
      return;
    }
    if (++tries < 40) setTimeout(go, 50);
  };
  setTimeout(go, 50);
}
