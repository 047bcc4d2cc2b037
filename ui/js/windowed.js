// A windowed list: of thousands of items only the rows on screen (plus a few either side) are in
// the DOM, so the cost of an update stays the same whether the batch holds 10 or 100,000. The
// list's full height is kept with padding, so the scroll bar and keyboard scrolling behave as
// if every row were there.
//
// Rows are keyed: a row whose `version` did not change is kept as the same node (and keeps the
// focus of a button in it); only changed or newly visible rows are built.

const OVERSCAN = 8;
const FALLBACK_ROW = 46; // px, until a row has been measured

/**
 * @param viewport the scrolling box
 * @param list the <ul> inside it
 * @param opts {key(item), version(item), render(item, index, count) → <li>}
 */
export function windowedList(viewport, list, { key, version, render }) {
  let items = [];
  let rowHeight = 0;
  let frame = 0;
  const nodes = new Map(); // key → {version, node}

  function draw() {
    frame = 0;
    const n = items.length;
    const h = rowHeight || FALLBACK_ROW;
    const top = viewport.scrollTop;
    const height = viewport.clientHeight || 600;
    const start = Math.max(0, Math.floor(top / h) - OVERSCAN);
    const end = Math.min(n, Math.ceil((top + height) / h) + OVERSCAN);
    const wanted = [];
    const keep = new Set();
    for (let i = start; i < end; i++) {
      const item = items[i];
      const k = key(item);
      const v = version(item);
      let entry = nodes.get(k);
      if (!entry || entry.version !== v || entry.index !== i || entry.count !== n) {
        entry = { version: v, index: i, count: n, node: render(item, i, n) };
        nodes.set(k, entry);
      }
      keep.add(k);
      wanted.push(entry.node);
    }
    for (const k of [...nodes.keys()]) if (!keep.has(k)) nodes.delete(k);
    // Put the wanted nodes in order, moving only what is out of place.
    for (let i = 0; i < wanted.length; i++) {
      const at = list.children[i];
      if (at !== wanted[i]) list.insertBefore(wanted[i], at || null);
    }
    while (list.children.length > wanted.length) list.lastElementChild.remove();
    // Padding through CSSOM (the CSP allows it, unlike style attributes).
    list.style.paddingTop = `${start * h}px`;
    list.style.paddingBottom = `${(n - end) * h}px`;
    if (!rowHeight && list.firstElementChild) {
      const measured = list.firstElementChild.getBoundingClientRect().height;
      if (measured > 0) {
        rowHeight = measured;
        if (Math.abs(measured - h) > 1) schedule();
      }
    }
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  viewport.addEventListener('scroll', schedule, { passive: true });
  // Observing the box (not the window) lets the list go away with its card.
  if (typeof ResizeObserver === 'function') new ResizeObserver(schedule).observe(viewport);

  return {
    /** Shows `next` (the whole list; only the visible part is built). */
    update(next) {
      items = next;
      draw();
    },
  };
}
