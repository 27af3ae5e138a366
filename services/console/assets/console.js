// The console's only script, loaded from /assets/ (no inline script: the CSP forbids it).
// Keyboard shortcuts: an element with data-key="x" is clicked when x is pressed, unless the
// person is typing in a field or holds a modifier. The page lists its keys beside each action.
document.addEventListener('keydown', (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const action = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (!(action instanceof HTMLElement) || action.closest('[hidden]')) return;
  event.preventDefault();
  if (action instanceof HTMLAnchorElement || action instanceof HTMLButtonElement || action instanceof HTMLInputElement) action.click();
  else action.focus();
});
