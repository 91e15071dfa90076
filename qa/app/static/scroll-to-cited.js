() => {
  let tries = 0;
  const go = () => {
    const m = document.querySelector('#source-view #cited');
    const doc = document.querySelector('#source-view .doc');
    if (m && doc) {  // scroll the document pane only, so the page keeps its place
      const top = m.getBoundingClientRect().top - doc.getBoundingClientRect().top;
      doc.scrollTop += top - doc.clientHeight / 3;
      return;
    }
    if (++tries < 40) setTimeout(go, 50);
  };
  setTimeout(go, 50);
}
