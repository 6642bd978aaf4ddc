// pilot's page helper. It is added to every new document (and every same-origin
// frame) before the page's own scripts run. It keeps a mutation clock for the
// settle logic, gives elements stable ids (the data-pilot-id attribute), turns
// the page into a compact text tree, and finds elements for actions.
(() => {
  if (window.__pilot) return;
  const ATTR = 'data-pilot-id';
  const isTop = window === window.top;
  const P = {mutations: 0, lastMutation: 0, unloading: false, nextId: 1};
  Object.defineProperty(window, '__pilot', {value: P, enumerable: false});

  // The top window keeps the clock for the whole page; a same-origin frame
  // reports its mutations there too.
  function topPilot() {
    try { return window.top.__pilot || P; } catch (e) { return P; }
  }
  function noteMutation() {
    const t = topPilot();
    t.mutations++;
    t.lastMutation = performance.now();
    if (t !== P) { P.mutations++; P.lastMutation = performance.now(); }
  }
  function observeMutations() {
    const mo = new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'attributes' && r.attributeName === ATTR) continue;
        noteMutation();
        return;
      }
    });
    mo.observe(document, {childList: true, subtree: true, attributes: true, characterData: true});
  }
  observeMutations();

  // Count the page's own requests (fetch, XHR) so that settle can wait for
  // the ones an action starts, before the browser reports them.
  P.pending = 0;
  // A request's start and end count as activity, like a mutation: the page
  // is not quiet until a window has passed after the last of them.
  function track(delta) {
    const t = topPilot();
    t.pending += delta;
    if (t !== P) P.pending += delta;
    noteMutation();
  }
  if (window.fetch) {
    const origFetch = window.fetch;
    window.fetch = function (...args) {
      track(1);
      let p;
      try { p = origFetch.apply(this, args); } catch (e) { track(-1); throw e; }
      return p.finally(() => track(-1));
    };
  }
  if (window.Response) {
    // Reading the body is part of the request for the page's handlers.
    for (const m of ['text', 'json', 'arrayBuffer', 'blob', 'formData']) {
      const orig = Response.prototype[m];
      if (!orig) continue;
      Response.prototype[m] = function (...args) {
        track(1);
        let p;
        try { p = orig.apply(this, args); } catch (e) { track(-1); throw e; }
        return p.finally(() => track(-1));
      };
    }
  }
  if (window.XMLHttpRequest) {
    const origSend = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function (...args) {
      track(1);
      this.addEventListener('loadend', () => track(-1), {once: true});
      return origSend.apply(this, args);
    };
  }
  // The top window's unloading means a navigation of the page; a frame's
  // ('frame') only of that frame, which the Go side need not wait long for.
  function noteUnloading() {
    const t = topPilot();
    if (isTop) t.unloading = true;
    else if (t.unloading !== true) t.unloading = 'frame';
  }
  window.addEventListener('beforeunload', noteUnloading);
  window.addEventListener('pagehide', noteUnloading);

  // ---- roles and names -------------------------------------------------

  const INPUT_ROLES = {
    button: 'button', submit: 'button', reset: 'button', image: 'button',
    checkbox: 'checkbox', radio: 'radio', range: 'slider', number: 'spinbutton',
    search: 'searchbox', email: 'textbox', tel: 'textbox', url: 'textbox',
    text: 'textbox', password: 'textbox', date: 'textbox', 'datetime-local': 'textbox',
    month: 'textbox', week: 'textbox', time: 'textbox', color: 'button', file: 'button',
  };
  const TAG_ROLES = {
    BUTTON: 'button', TEXTAREA: 'textbox', SELECT: 'combobox', OPTION: 'option',
    H1: 'heading', H2: 'heading', H3: 'heading', H4: 'heading', H5: 'heading', H6: 'heading',
    IMG: 'img', NAV: 'navigation', MAIN: 'main', HEADER: 'banner', FOOTER: 'contentinfo',
    ASIDE: 'complementary', FORM: 'form', UL: 'list', OL: 'list', LI: 'listitem',
    TABLE: 'table', TR: 'row', TH: 'columnheader', TD: 'cell', DIALOG: 'dialog',
    SUMMARY: 'button', LABEL: 'label', FIELDSET: 'group', LEGEND: 'legend',
    IFRAME: 'iframe', P: 'paragraph', PROGRESS: 'progressbar', DL: 'list', DT: 'term', DD: 'definition',
  };
  const INTERACTIVE = new Set(['link', 'button', 'textbox', 'searchbox', 'checkbox', 'radio',
    'combobox', 'listbox', 'option', 'slider', 'spinbutton', 'switch', 'tab', 'menuitem',
    'menuitemcheckbox', 'menuitemradio', 'treeitem']);
  // Roles whose name comes from their content: their text is not repeated below them.
  const NAME_FROM_CONTENT = new Set(['link', 'button', 'tab', 'menuitem', 'option', 'heading',
    'treeitem', 'columnheader', 'legend', 'switch', 'menuitemcheckbox', 'menuitemradio']);
  const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'HEAD', 'META', 'LINK', 'TITLE', 'svg', 'SVG', 'BR', 'HR']);

  function roleOf(el) {
    const explicit = (el.getAttribute('role') || '').trim().split(/\s+/)[0];
    if (explicit && explicit !== 'presentation' && explicit !== 'none') return explicit;
    if (explicit) return '';
    const tag = el.tagName;
    if (tag === 'A' || tag === 'AREA') return el.hasAttribute('href') ? 'link' : '';
    if (tag === 'INPUT') {
      // hasOwnProperty: type="constructor" must not find Object.prototype's.
      const t = (el.getAttribute('type') || 'text').toLowerCase();
      return Object.prototype.hasOwnProperty.call(INPUT_ROLES, t) ? INPUT_ROLES[t] : 'textbox';
    }
    if (tag === 'SELECT' && (el.multiple || el.size > 1)) return 'listbox';
    if (tag === 'SECTION' && (el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby'))) return 'region';
    if (el.isContentEditable && (el.parentElement == null || !el.parentElement.isContentEditable)) return 'textbox';
    return TAG_ROLES[tag] || '';
  }

  function clean(s, max) {
    s = (s || '').replace(/\s+/g, ' ').trim();
    if (max && s.length > max) s = s.slice(0, max) + '…';
    return s;
  }

  // textOf joins an element's text nodes with spaces at element
  // boundaries ("Red mug $9.00", not "Red mug$9.00"). It does not use
  // innerText, which lays the page out again on every call.
  function textOf(el) {
    if (el.childElementCount === 0) return clean(el.textContent);
    const parts = [];
    const rec = (n) => {
      for (let c = n.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === 3) parts.push(c.nodeValue);
        else if (c.nodeType === 1 && !SKIP.has(c.tagName)) { parts.push(' '); rec(c); parts.push(' '); }
      }
    };
    rec(el);
    return clean(parts.join(''));
  }

  function labelText(el) {
    const doc = el.ownerDocument;
    const lb = el.getAttribute('aria-labelledby');
    if (lb) {
      const parts = lb.split(/\s+/).map((id) => doc.getElementById(id)).filter(Boolean).map(textOf);
      if (parts.length) return clean(parts.join(' '));
    }
    const al = el.getAttribute('aria-label');
    if (al && al.trim()) return clean(al);
    if (el.labels && el.labels.length) {
      return clean(Array.from(el.labels).map(textOf).join(' '));
    }
    return '';
  }

  // nameOf returns the accessible name and whether it is the element's own
  // text content (then the walk does not repeat that text below it).
  function nameOf(el, role) {
    let n = labelText(el);
    if (n) return [n, false];
    const tag = el.tagName;
    if (tag === 'IMG' || tag === 'AREA' || (tag === 'INPUT' && el.type === 'image')) {
      n = el.getAttribute('alt') || '';
      if (n) return [clean(n), false];
    }
    if (tag === 'INPUT' && ['button', 'submit', 'reset'].includes(el.type)) {
      return [clean(el.value || (el.type === 'submit' ? 'Submit' : el.type === 'reset' ? 'Reset' : '')), false];
    }
    if (tag === 'FIELDSET') {
      const lg = el.querySelector(':scope > legend');
      if (lg) return [textOf(lg), false];
    }
    if (tag === 'TABLE' && el.caption) return [textOf(el.caption), false];
    if (NAME_FROM_CONTENT.has(role)) {
      n = textOf(el);
      if (n) return [n, true];
    }
    return [clean(el.getAttribute('title') || el.getAttribute('placeholder') || ''), false];
  }

  // ---- visibility --------------------------------------------------------

  function hiddenSubtree(el, style) {
    if (el.hidden && style.display === 'none') return true;
    if (style.display === 'none') return true;
    if (el.getAttribute('aria-hidden') === 'true') return true;
    if (el.tagName === 'INPUT' && el.type === 'hidden') return true;
    return false;
  }

  function invisibleSelf(el, style) {
    if (style.display === 'contents') return false;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0 && el.getClientRects().length === 0) return true;
    if (r.width * r.height === 0 && style.overflow === 'hidden') return true;
    if (parseFloat(style.opacity) === 0 && !INTERACTIVE.has(roleOf(el))) return true;
    return false;
  }

  // ---- ids ---------------------------------------------------------------

  // New ids are written after the walk (flushIds): writing an attribute
  // during the walk would invalidate the styles that the walk reads.
  let newIds = [];
  function idOf(el) {
    let id = el.getAttribute(ATTR);
    if (!id) {
      id = String(topPilot().nextId++);
      newIds.push([el, id]);
    }
    return id;
  }
  function flushIds() {
    for (const [el, id] of newIds) el.setAttribute(ATTR, id);
    newIds = [];
  }

  function find(id) {
    const sel = '[' + ATTR + '="' + CSS.escape(String(id)) + '"]';
    const search = (doc) => {
      const hit = doc.querySelector(sel);
      if (hit) return hit;
      for (const f of doc.querySelectorAll('iframe,frame')) {
        let d = null;
        try { d = f.contentDocument; } catch (e) { d = null; }
        if (d) { const h = search(d); if (h) return h; }
      }
      return null;
    };
    return search(document);
  }

  // ---- the tree ----------------------------------------------------------

  function q(s) { return JSON.stringify(s); }
  const NONBLANK = /\S/;

  function observe() {
    const lines = [];
    const choices = [];
    let count = 0;

    function emitText(text, depth) {
      const t = clean(text, 500);
      if (t) lines.push('  '.repeat(depth) + 'StaticText ' + q(t));
    }

    function walk(parent, depth, quiet) {
      for (let n = parent.firstChild; n; n = n.nextSibling) {
        if (n.nodeType === 3) {
          if (!quiet && NONBLANK.test(n.nodeValue)) emitText(n.nodeValue, depth);
          continue;
        }
        if (n.nodeType !== 1) continue;
        const el = n;
        if (SKIP.has(el.tagName)) continue;
        const win = el.ownerDocument.defaultView;
        const style = win.getComputedStyle(el);
        if (hiddenSubtree(el, style)) continue;
        if (el.shadowRoot) { walk(el.shadowRoot, depth, quiet); }
        const role = roleOf(el);
        if (el.tagName === 'OPTION') {
          // Options are listed under their select (a closed select's
          // options have no box, so they come before the visibility test).
          const id = idOf(el);
          count++;
          let line = '  '.repeat(depth) + '[' + id + '] option ' + q(clean(el.label || el.text, 200));
          if (el.selected) line += ' selected';
          if (el.disabled) line += ' disabled';
          lines.push(line);
          continue;
        }
        if (el.tagName === 'OPTGROUP') { walk(el, depth, quiet); continue; }
        if (style.visibility === 'hidden' || style.visibility === 'collapse') {
          // A child may still be visible (visibility can be overridden);
          // the element's own text is hidden (quiet).
          walk(el, depth, true);
          continue;
        }
        // Layout is read only where it matters: elements that get a line,
        // and clipping containers (which hide screen-reader-only text).
        if (!role && style.overflow !== 'hidden') { walk(el, depth, quiet); continue; }
        if (invisibleSelf(el, style)) continue;
        if (!role) { walk(el, depth, quiet); continue; }
        if (el.tagName === 'IFRAME' || el.tagName === 'FRAME') {
          let doc = null;
          try { doc = el.contentDocument; } catch (e) { doc = null; }
          const id = idOf(el);
          count++;
          const name = nameOf(el, 'iframe')[0];
          lines.push('  '.repeat(depth) + '[' + id + '] iframe' + (name ? ' ' + q(name) : '') + (doc ? '' : ' (cross-origin, not shown)'));
          if (doc && doc.body) walk(doc.body, depth + 1, false);
          continue;
        }
        if (role === 'label' && el.tagName === 'LABEL' && el.control) {
          // The control carries the label as its name: show only the control.
          walk(el, depth, true);
          continue;
        }
        const id = idOf(el);
        count++;
        const [name, fromContent] = nameOf(el, role);
        let line = '  '.repeat(depth) + '[' + id + '] ' + role;
        if (name) line += ' ' + q(clean(name, 300));
        const tag = el.tagName;
        if (role === 'heading') {
          const lvl = /^H[1-6]$/.test(tag) ? tag[1] : (el.getAttribute('aria-level') || '').trim();
          if (/^[1-9][0-9]{0,2}$/.test(lvl)) line += ' level=' + lvl;
        }
        if (tag === 'INPUT' || tag === 'TEXTAREA') {
          if (el.type === 'checkbox' || el.type === 'radio') {
            if (el.checked) line += ' checked';
          } else if (el.type === 'password') {
            if (el.value) line += ' value="••••"';
          } else if (!['button', 'submit', 'reset', 'image'].includes(el.type)) {
            line += ' value=' + q(clean(el.value, 200));
          }
          if (el.readOnly) line += ' readonly';
          if (el.required) line += ' required';
        } else if (tag === 'SELECT') {
          const sel = Array.from(el.selectedOptions).map((o) => clean(o.label || o.text));
          line += ' value=' + q(sel.join(', '));
        } else if (el.isContentEditable && role === 'textbox') {
          line += ' value=' + q(clean(el.innerText, 200));
        }
        const ac = el.getAttribute('aria-checked');
        if (ac && !(tag === 'INPUT')) line += ac === 'true' ? ' checked' : ac === 'mixed' ? ' checked=mixed' : '';
        if (el.getAttribute('aria-selected') === 'true') line += ' selected';
        const ae = el.getAttribute('aria-expanded');
        if (ae === 'true' || ae === 'false') line += ' expanded=' + ae;
        if (el.disabled || el.getAttribute('aria-disabled') === 'true') line += ' disabled';
        if (tag !== 'BODY' && el.ownerDocument.activeElement === el) line += ' focused';
        lines.push(line);

        const disabled = el.disabled || el.getAttribute('aria-disabled') === 'true';
        if (!disabled) {
          if (tag === 'SELECT') {
            for (const o of el.options) if (!o.disabled) choices.push({name: 'select_option', args: [id, clean(o.label || o.text)]});
          } else if (['link', 'button', 'checkbox', 'radio', 'tab', 'menuitem', 'menuitemcheckbox',
            'menuitemradio', 'switch', 'treeitem', 'option'].includes(role)) {
            choices.push({name: 'click', args: [id]});
          }
        }
        // The element's own text is its name for these roles: do not repeat it.
        const childQuiet = quiet || (fromContent && name !== '');
        if (tag === 'SELECT') { walk(el, depth + 1, true); continue; }
        if (tag === 'TEXTAREA') continue;
        walk(el, depth + 1, childQuiet);
      }
    }
    if (document.body) walk(document.body, 0, false);
    flushIds();
    return {
      text: lines.join('\n'),
      url: location.href,
      title: document.title,
      count: count,
      choices: choices,
      scrollY: Math.round(window.scrollY),
      scrollMax: Math.max(0, Math.round(document.documentElement.scrollHeight - window.innerHeight)),
    };
  }

  // ---- actions -----------------------------------------------------------

  function describe(el) {
    const r = roleOf(el);
    return r ? 'a ' + r : 'a ' + el.tagName.toLowerCase() + ' element';
  }

  function visibleForAction(el) {
    for (let e = el; e; e = e.parentElement) {
      const st = e.ownerDocument.defaultView.getComputedStyle(e);
      if (st.display === 'none') return false;
      if (e === el && (st.visibility === 'hidden' || st.visibility === 'collapse')) return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }

  function lookup(id) {
    const el = find(id);
    if (!el) return {error: 'no element with id ' + id + ' on the page: use an id from the current observation'};
    if (!visibleForAction(el)) return {error: 'element ' + id + ' is hidden: it cannot be used now'};
    return {el};
  }

  // point scrolls element id into view and returns the centre of it in the
  // top viewport's coordinates, or an error for the agent.
  function point(id) {
    const r0 = lookup(id);
    if (r0.error) return r0;
    const el = r0.el;
    if (el.tagName === 'OPTION') {
      return {error: 'element ' + id + ' is an option: use select_option on its select'};
    }
    let r = el.getBoundingClientRect();
    const vw = el.ownerDocument.defaultView;
    if (r.top < 0 || r.left < 0 || r.bottom > vw.innerHeight || r.right > vw.innerWidth || vw !== window) {
      el.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
      r = el.getBoundingClientRect();
    }
    let x = r.left + r.width / 2, y = r.top + r.height / 2;
    // Add the offsets of enclosing same-origin frames.
    let w = el.ownerDocument.defaultView;
    while (w !== window.top) {
      const fe = w.frameElement;
      if (!fe) break;
      const fr = fe.getBoundingClientRect();
      x += fr.left + fe.clientLeft;
      y += fr.top + fe.clientTop;
      w = w.parent;
    }
    let href = '';
    const a = el.closest('a[href]');
    if (a) href = a.href;
    return {x, y, href, mutations: T().mutations};
  }

  function T() { return topPilot(); }

  const TEXT_TYPES = new Set(['text', 'search', 'email', 'password', 'tel', 'url', 'number', 'date',
    'datetime-local', 'month', 'week', 'time', '']);

  function prepareFill(id) {
    const r0 = lookup(id);
    if (r0.error) return r0;
    const el = r0.el;
    const isText = (el.tagName === 'INPUT' && TEXT_TYPES.has((el.getAttribute('type') || '').toLowerCase())) ||
      el.tagName === 'TEXTAREA' || el.isContentEditable;
    if (!isText) return {error: 'element ' + id + ' is ' + describe(el) + ', not a text field: fill works on text boxes'};
    if (el.disabled || el.readOnly) return {error: 'element ' + id + ' is ' + (el.disabled ? 'disabled' : 'read-only')};
    const mutations = T().mutations;
    el.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
    el.focus();
    if (el.isContentEditable) {
      const range = el.ownerDocument.createRange();
      range.selectNodeContents(el);
      const s = el.ownerDocument.defaultView.getSelection();
      s.removeAllRanges();
      s.addRange(range);
    } else if (typeof el.select === 'function') {
      el.select();
    }
    return {mutations};
  }

  function afterFill(id) {
    const el = find(id);
    if (el && !el.isContentEditable) el.dispatchEvent(new Event('change', {bubbles: true}));
    return {};
  }

  function selectOption(id, want) {
    const r0 = lookup(id);
    if (r0.error) return r0;
    let el = r0.el;
    if (el.tagName === 'OPTION' && el.parentElement) el = el.closest('select');
    if (!el || el.tagName !== 'SELECT') return {error: 'element ' + id + ' is ' + describe(r0.el) + ', not a select: use click for other elements'};
    if (el.disabled) return {error: 'element ' + id + ' is disabled'};
    const mutations = T().mutations;
    const norm = (s) => clean(s).toLowerCase();
    const w = norm(want);
    const opts = Array.from(el.options);
    let hit = opts.find((o) => norm(o.label || o.text) === w) || opts.find((o) => norm(o.value) === w);
    if (!hit) {
      const names = opts.map((o) => q(clean(o.label || o.text))).join(', ');
      return {error: 'select ' + id + ' has no option ' + q(want) + ': its options are ' + names};
    }
    if (hit.disabled) return {error: 'option ' + q(want) + ' of select ' + id + ' is disabled'};
    el.focus();
    if (el.multiple) { hit.selected = true; } else { el.value = hit.value; hit.selected = true; }
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
    return {mutations};
  }

  function scroll(dir, id) {
    let target = null;
    if (id) {
      const r0 = lookup(id);
      if (r0.error) return r0;
      target = r0.el;
    }
    const mutations = T().mutations;
    const h = target ? target.clientHeight : window.innerHeight;
    const w = target ? target.clientWidth : window.innerWidth;
    const d = {up: [0, -0.8 * h], down: [0, 0.8 * h], left: [-0.8 * w, 0], right: [0.8 * w, 0]}[dir];
    if (!d) return {error: 'scroll direction must be up, down, left or right, not ' + q(dir)};
    (target || window).scrollBy({left: d[0], top: d[1], behavior: 'instant'});
    return {mutations};
  }

  // settle waits until the page has had no mutation for quietMs, counting
  // only when something changed since the action (mutations is the count
  // before it). It gives up after maxMs. A page that is unloading reports
  // so, for the Go side to wait for the navigation.
  function settle(mutations, quietMs, maxMs, netMs) {
    const t = T();
    const start = performance.now();
    return new Promise((resolve) => {
      const check = () => {
        if (t.unloading) return resolve({unloading: true, frame: t.unloading === 'frame'});
        const now = performance.now();
        // A document that is still being parsed (just after a navigation
        // committed) is not ready, whatever its mutation clock says.
        if (document.readyState === 'loading' && now - start < maxMs) {
          document.addEventListener('DOMContentLoaded', check, {once: true});
          return;
        }
        if (t.pending > 0 && now - start < Math.min(netMs, maxMs)) return setTimeout(check, 5);
        const idle = now - t.lastMutation;
        if (t.mutations === mutations || idle >= quietMs || now - start >= maxMs) {
          return resolve({waited: now - start, obs: observe()});
        }
        setTimeout(check, Math.max(1, quietMs - idle));
      };
      // One macrotask lets handlers that the action queued run first.
      setTimeout(check, 0);
    });
  }

  P.observe = observe;
  P.point = point;
  P.prepareFill = prepareFill;
  P.afterFill = afterFill;
  P.selectOption = selectOption;
  P.scroll = scroll;
  P.settle = settle;
  P.find = find;
  P.mark = () => ({mutations: T().mutations});
  P.clearUnloading = () => { T().unloading = false; return {}; };
})();
