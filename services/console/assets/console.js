// The console's only script, loaded from /assets/ (no inline script: the CSP forbids it).
// Keyboard shortcuts: an element with data-key="x" is clicked when x is pressed, unless the
// person is typing in a field or holds a modifier. The page lists its keys beside each action.
// A list whose rows carry data-row: j/k move the focus between them, o opens the focused one
// (Enter does by itself, the row being a link).
document.addEventListener('keydown', (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const action = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (!(action instanceof HTMLElement) || action.closest('[hidden]')) {
    rowKey(event, key);
    return;
  }
  event.preventDefault();
  if (action instanceof HTMLAnchorElement || action instanceof HTMLButtonElement || action instanceof HTMLInputElement) action.click();
  else action.focus();
});

function rowKey(event, key) {
  const rows = [...document.querySelectorAll('[data-row]')];
  if (rows.length === 0) return;
  const at = rows.indexOf(document.activeElement);
  if (key === 'o' && at >= 0) {
    event.preventDefault();
    rows[at].click();
  } else if (key === 'j' || key === 'k') {
    event.preventDefault();
    const next = at < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, at + (key === 'j' ? 1 : -1)));
    rows[next].focus();
  }
}
