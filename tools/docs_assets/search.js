// The docs' search box: matches every word typed against the index in search.json (loaded on first use).
// A page opened as `page.html?q=words` shows the results for those words.
(() => {
  const box = document.getElementById('search'), list = document.getElementById('search-results');
  if (!box || !list) return;
  let index = null;
  const load = async () => index ??= await (await fetch('search.json')).json();
  const esc = s => s.replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'})[c]);
  function score(e, words) {
    const title = e.title.toLowerCase(), all = (e.title + ' ' + e.page + ' ' + e.text).toLowerCase();
    if (!words.every(w => all.includes(w))) return 0;
    return words.reduce((s, w) => s + (title.includes(w) ? 3 : 1), 0) + (e.href.includes('#') ? 0 : 1);
  }
  async function show(q) {
    const words = q.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) { list.hidden = true; return; }
    try { await load(); } catch (e) {
      list.innerHTML = '<p>Search needs the site served, e.g. <code>python -m http.server -d _docs</code>.</p>';
      list.hidden = false; return;
    }
    const hits = index.map(e => [score(e, words), e]).filter(([s]) => s > 0)
      .sort((a, b) => b[0] - a[0]).slice(0, 12);
    list.innerHTML = hits.length ? hits.map(([, e]) =>
      `<a href="${e.href}">${esc(e.title)}<small>${esc(e.page)}: ${esc(e.text.slice(0, 120))}</small></a>`).join('')
      : '<p>No match.</p>';
    list.hidden = false;
  }
  box.addEventListener('input', () => show(box.value));
  box.addEventListener('keydown', e => {
    const first = list.querySelector('a');
    if (e.key === 'Enter' && first) location.href = first.href;
    if (e.key === 'Escape') list.hidden = true;
  });
  document.addEventListener('click', e => { if (!e.target.closest('.search')) list.hidden = true; });
  const q = new URLSearchParams(location.search).get('q');
  if (q) { box.value = q; show(q); }
})();
