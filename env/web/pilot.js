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

  // ---- what the page's scripts make interactive ---------------------------
  // This runs before the page's own scripts: it sees every listener they
  // add and every shadow root they attach (closed ones too), and keeps the
  // natives pilot itself calls, so that a page that replaces them later
  // does not blind it.
  const nativeAdd = EventTarget.prototype.addEventListener;
  const stringify = JSON.stringify;
  const nativeAttach = Element.prototype.attachShadow;
  const apply = Reflect.apply;
  const CLICK_EVENTS = new Set(['click', 'dblclick', 'mousedown', 'mouseup', 'pointerdown', 'pointerup',
    'touchstart', 'touchend', 'auxclick', 'contextmenu', 'dragstart', 'drop', 'keydown', 'keyup', 'keypress']);
  P.listened = new WeakSet();
  P.shadows = new WeakMap();
  P.invalid = new WeakSet();
  function on(target, type, fn, opts) { apply(nativeAdd, target, [type, fn, opts]); }
  try {
    EventTarget.prototype.addEventListener = function addEventListener(type, fn, opts) {
      try {
        if (this instanceof Element && CLICK_EVENTS.has(String(type).toLowerCase())) P.listened.add(this);
      } catch (e) { /* a page's odd arguments are the page's business */ }
      return apply(nativeAdd, this, arguments);
    };
    if (nativeAttach) {
      Element.prototype.attachShadow = function attachShadow(init) {
        const root = apply(nativeAttach, this, arguments);
        try { P.shadows.set(this, root); } catch (e) { /* ignore */ }
        return root;
      };
    }
  } catch (e) { /* a frozen prototype: listeners are then found by cursor and attributes */ }
  // Changes of state that are not DOM mutations (a value, a check, the
  // focus) count on the clock too: an observation taken before them is
  // stale.
  for (const type of ['input', 'change', 'focusin', 'focusout']) on(document, type, noteMutation, true);
  // An image or a frame that loads changes the layout without a mutation.
  on(document, 'load', noteMutation, true);
  on(document, 'error', noteMutation, true);
  // A form the user submits marks its invalid controls (the browser shows a
  // bubble that is not in the DOM): the tree shows the message.
  on(document, 'invalid', (ev) => { if (ev.target instanceof Element) P.invalid.add(ev.target); }, true);

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
  // Reading a body is part of the request for the page's handlers, and
  // reading a file (an upload's) is work the page waits for as well.
  function trackPromises(proto, methods) {
    if (!proto) return;
    for (const m of methods) {
      const orig = proto[m];
      if (!orig) continue;
      proto[m] = function (...args) {
        track(1);
        let p;
        try { p = orig.apply(this, args); } catch (e) { track(-1); throw e; }
        return p.finally(() => track(-1));
      };
    }
  }
  if (window.Response) trackPromises(Response.prototype, ['text', 'json', 'arrayBuffer', 'blob', 'formData']);
  if (window.Blob) trackPromises(Blob.prototype, ['text', 'arrayBuffer', 'bytes']);
  if (window.FileReader) {
    for (const m of ['readAsText', 'readAsDataURL', 'readAsArrayBuffer', 'readAsBinaryString']) {
      const orig = FileReader.prototype[m];
      if (!orig) continue;
      FileReader.prototype[m] = function (...args) {
        track(1);
        on(this, 'loadend', () => track(-1), {once: true});
        try { return orig.apply(this, args); } catch (e) { track(-1); throw e; }
      };
    }
  }
  if (window.XMLHttpRequest) {
    const origSend = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function (...args) {
      track(1);
      on(this, 'loadend', () => track(-1), {once: true});
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
  on(window, 'beforeunload', noteUnloading);
  on(window, 'pagehide', noteUnloading);

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
  // A label's text leaves out the controls in it: a select inside its
  // label is named by the label's words, not by all its options.
  const LABEL_SKIP = new Set(['SELECT', 'TEXTAREA', 'DATALIST', 'OPTION']);
  function textOf(el, skipControls) {
    if (el.childElementCount === 0) return clean(el.textContent);
    const parts = [];
    const rec = (n) => {
      for (let c = n.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === 3) parts.push(c.nodeValue);
        else if (c.nodeType === 1 && !SKIP.has(c.tagName) && !(skipControls && LABEL_SKIP.has(c.tagName))) {
          parts.push(' '); rec(c); parts.push(' ');
        }
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
    const labels = labelsOf(el);
    if (labels.length) {
      return clean(labels.map((l) => textOf(l, true)).join(' '));
    }
    return '';
  }

  // labelsOf is el.labels, from one pass over the labels of el's document
  // or shadow root per observation: el.labels searches the whole document
  // the first time it is read for an element, which made the first
  // observation of a page with 25,000 buttons take 17 seconds.
  let labelMaps = new Map();
  const NO_LABELS = [];
  function labelsOf(el) {
    if (!('labels' in el)) return NO_LABELS;
    const root = el.getRootNode();
    let m = labelMaps.get(root);
    if (!m) {
      m = new Map();
      if (root.querySelectorAll) {
        for (const l of root.querySelectorAll('label')) {
          const c = l.control;
          if (!c) continue;
          const list = m.get(c);
          if (list) list.push(l); else m.set(c, [l]);
        }
      }
      labelMaps.set(root, m);
    }
    return m.get(el) || NO_LABELS;
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

  // offscreen: positioned out of the page where no scroll reaches (the
  // "left: -9999px" way of hiding text).
  function offscreen(el, style, r) {
    if (style.position !== 'absolute' && style.position !== 'fixed') return false;
    r = r || el.getBoundingClientRect();
    const w = el.ownerDocument.defaultView;
    return r.right + w.scrollX <= 0 || r.bottom + w.scrollY <= 0;
  }

  // lastRect is the box invisibleSelf read last, and of which element: the
  // walk reads it again for the viewport.
  let lastRect = null, lastRectEl = null;
  function invisibleSelf(el, style) {
    if (style.display === 'contents') return false;
    const r = el.getBoundingClientRect();
    lastRect = r; lastRectEl = el;
    if (r.width === 0 && r.height === 0 && el.getClientRects().length === 0) return true;
    if (r.width * r.height === 0 && style.overflow === 'hidden') return true;
    if (parseFloat(style.opacity) === 0 && !INTERACTIVE.has(roleOf(el))) return true;
    if (offscreen(el, style, r)) return true;
    return false;
  }

  // shown reports whether a control is drawn where a person can see it: a
  // checkbox hidden behind its styled label is not (the label is then the
  // control in the tree).
  function shown(el) {
    if (typeof el.checkVisibility === 'function' && !el.checkVisibility({opacityProperty: true, visibilityProperty: true})) return false;
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  }

  // A visible label of a hidden checkbox or radio stands for it.
  function standsFor(label) {
    const c = label.control;
    if (!c || c.tagName !== 'INPUT' || (c.type !== 'checkbox' && c.type !== 'radio')) return null;
    return shown(c) ? null : c;
  }
  function hasShownLabel(el) {
    for (const l of labelsOf(el)) if (shown(l)) return true;
    return false;
  }

  // ---- what a person can click ------------------------------------------

  const INLINE = new Set(['A', 'ABBR', 'ACRONYM', 'B', 'BDI', 'BDO', 'BIG', 'CITE', 'CODE', 'DATA', 'DEL', 'DFN',
    'EM', 'FONT', 'I', 'INS', 'KBD', 'LABEL', 'MARK', 'NOBR', 'Q', 'S', 'SAMP', 'SMALL', 'SPAN', 'STRIKE',
    'STRONG', 'SUB', 'SUP', 'TIME', 'TT', 'U', 'VAR', 'WBR']);
  // inline reports whether el flows in its block's line: text on both sides
  // of it and in it is one line of the tree. It reads the tag and the style
  // attribute (not the style sheets), as lite does.
  function inline(el) {
    const d = el.hasAttribute('style') && el.style ? el.style.display : '';
    if (d) return d.startsWith('inline') || d === 'contents';
    return INLINE.has(el.tagName);
  }

  const CONTROL_SEL = 'a[href],button,input,select,textarea,[role],[onclick],[tabindex],[contenteditable]';
  // clickable reports whether a role-less element reacts to a click: a
  // listener the page added, an onclick handler, a tabindex, or the root of
  // a pointer cursor (the parent's cursor is not a pointer).
  function clickable(el, style, parentCursor, owner) {
    const doc = el.ownerDocument;
    if (el === doc.body || el === doc.documentElement) return false;
    if (owner.listened && owner.listened.has(el)) return true;
    if (typeof el.onclick === 'function' || typeof el.onmousedown === 'function' || typeof el.ondblclick === 'function') return true;
    if (el.getAttribute('draggable') === 'true') return true;
    const ti = el.getAttribute('tabindex');
    if (ti !== null && /^\s*[0-9]+\s*$/.test(ti)) return true;
    return style.cursor === 'pointer' && parentCursor !== 'pointer';
  }

  // ---- ids ---------------------------------------------------------------

  // New ids are written after the walk (flushIds): writing an attribute
  // during the walk would invalidate the styles that the walk reads. The top
  // window keeps every id's element, which finds it inside shadow roots and
  // frames and tells a removed element from one that never was.
  let newIds = [];
  function idOf(el) {
    let id = el.getAttribute(ATTR);
    if (!id) {
      const t = topPilot();
      id = String(t.nextId++);
      newIds.push([el, id]);
    }
    return id;
  }
  function flushIds() {
    const t = topPilot();
    if (!t.byId) t.byId = new Map();
    for (const [el, id] of newIds) {
      el.setAttribute(ATTR, id);
      t.byId.set(id, new WeakRef(el));
    }
    newIds = [];
  }

  // find returns the element of id; detached tells that it was on the page
  // and has been removed since.
  function find(id) {
    id = String(id);
    const t = topPilot();
    const ref = t.byId && t.byId.get(id);
    const el = ref && ref.deref();
    if (el && el.isConnected && el.getAttribute(ATTR) === id) return el;
    const sel = '[' + ATTR + '="' + CSS.escape(id) + '"]';
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
    const hit = search(document);
    if (hit) return hit;
    if (ref) find.detached = true;
    return null;
  }

  // ---- the tree ----------------------------------------------------------

  function q(s) { return stringify(s); }
  const NONBLANK = /\S/;

  function observe() {
    try {
      return observeTree();
    } catch (e) {
      // The page's scripts broke something pilot reads (a replaced
      // prototype method): say so, with what can be said.
      newIds = [];
      return {text: '', url: location.href, title: String(document.title || ''), count: 0, choices: [],
        scrollY: 0, scrollMax: 0, status: 0,
        error: 'pilot could not read this page: ' + String(e && e.message || e) + ' (its scripts replace browser functions pilot uses)'};
    }
  }

  P.obsSeq = 0;
  function observeTree() {
    P.obsSeq++;
    labelMaps = new Map();
    const lines = [];
    const choices = [];
    let count = 0;
    let viewFirst = -1, viewLast = -1;
    // Text of one line of the page: text nodes and inline elements
    // without a role gather here until a block or an element line ends it.
    let buf = '', bufDepth = 0;
    function flush() {
      if (buf) {
        const t = clean(buf, 500);
        if (t) lines.push('  '.repeat(bufDepth) + 'StaticText ' + q(t));
        buf = '';
      }
    }
    function addText(text, depth) {
      if (buf && bufDepth !== depth) flush();
      if (!buf) bufDepth = depth;
      buf += text;
    }
    function push(line) { flush(); lines.push(line); }

    function walk(parent, depth, quiet, cursor) {
      for (let n = parent.firstChild; n; n = n.nextSibling) visit(n, depth, quiet, cursor);
    }
    function visit(n, depth, quiet, cursor) {
      if (n.nodeType === 3) {
        if (!quiet && NONBLANK.test(n.nodeValue)) addText(n.nodeValue, depth);
        else if (buf && !quiet) buf += ' ';
        return;
      }
      if (n.nodeType !== 1) return;
      const el = n;
      if (el.tagName === 'BR') { flush(); return; }
      if (SKIP.has(el.tagName)) return;
      const win = el.ownerDocument.defaultView;
      const style = win.getComputedStyle(el);
      if (hiddenSubtree(el, style)) return;
      const owner = win === window ? P : (win.__pilot || P);
      const sr = el.shadowRoot || owner.shadows.get(el);
      if (sr) { flush(); walk(sr, depth, quiet, style.cursor); }
      let role = roleOf(el);
      if (el.tagName === 'OPTION') {
        // Options are listed under their select (a closed select's
        // options have no box, so they come before the visibility test).
        const id = idOf(el);
        count++;
        let line = '  '.repeat(depth) + '[' + id + '] option ' + q(clean(el.label || el.text, 200));
        if (el.selected) line += ' selected';
        if (el.disabled) line += ' disabled';
        push(line);
        return;
      }
      if (el.tagName === 'OPTGROUP') { walk(el, depth, quiet, style.cursor); return; }
      if (style.visibility === 'hidden' || style.visibility === 'collapse') {
        // A child may still be visible (visibility can be overridden);
        // the element's own text is hidden (quiet).
        walk(el, depth, true, style.cursor);
        return;
      }
      if (el.tagName === 'DETAILS' && !el.open) {
        // A closed details shows its summary only.
        flush();
        for (const c of el.children) if (c.tagName === 'SUMMARY') { visit(c, depth, quiet, style.cursor); break; }
        return;
      }
      const isInline = inline(el);
      if (!role) {
        if (style.overflow === 'hidden' || style.position === 'absolute' || style.position === 'fixed') {
          if (invisibleSelf(el, style)) return;
        }
        if (clickable(el, style, cursor, owner) && el.querySelector(CONTROL_SEL) === null && !invisibleSelf(el, style)) {
          // A clickable thing holding controls is a container that
          // delegates their clicks (or a card with a link): its controls
          // are what a person clicks.
          role = 'clickable';
        } else {
          if (!isInline) flush();
          walk(el, depth, quiet, style.cursor);
          if (!isInline) flush();
          return;
        }
      } else if (invisibleSelf(el, style)) {
        return;
      }
      if (el.tagName === 'IFRAME' || el.tagName === 'FRAME') {
        let doc = null;
        try { doc = el.contentDocument; } catch (e) { doc = null; }
        const id = idOf(el);
        count++;
        const name = nameOf(el, 'iframe')[0];
        push('  '.repeat(depth) + '[' + id + '] iframe' + (name ? ' ' + q(name) : '') + (doc ? '' : ' (cross-origin, not shown)'));
        if (doc && doc.body) { walk(doc.body, depth + 1, false, ''); flush(); }
        return;
      }
      let ctl = el; // the element whose state the line shows
      if (role === 'label' && el.tagName === 'LABEL' && el.control) {
        const c = standsFor(el);
        if (!c) {
          // The control carries the label as its name: show only the control.
          walk(el, depth, true, style.cursor);
          return;
        }
        ctl = c;
        role = roleOf(c);
      }
      if (el.tagName === 'INPUT' && (el.type === 'checkbox' || el.type === 'radio') && !shown(el) && hasShownLabel(el)) {
        return; // its label stands for it
      }
      const id = idOf(el);
      count++;
      let name, fromContent;
      if (role === 'clickable') {
        // A clickable thing is named by its text, unless it holds a lot of it.
        const text = textOf(el);
        const label = labelText(el);
        [name, fromContent] = label ? [label, false] : text.length <= 120 ? [text, true] : [clean(el.getAttribute('title') || ''), false];
      } else if (ctl !== el) {
        [name, fromContent] = [textOf(el, true), true];
      } else {
        [name, fromContent] = nameOf(el, role);
      }
      let line = '  '.repeat(depth) + '[' + id + '] ' + role;
      if (name) line += ' ' + q(clean(name, 300));
      const tag = ctl.tagName;
      if (role === 'heading') {
        const lvl = /^H[1-6]$/.test(tag) ? tag[1] : (el.getAttribute('aria-level') || '').trim();
        if (/^[1-9][0-9]{0,2}$/.test(lvl)) line += ' level=' + lvl;
      }
      if (tag === 'INPUT' || tag === 'TEXTAREA') {
        if (ctl.type === 'checkbox' || ctl.type === 'radio') {
          if (ctl.checked) line += ' checked';
        } else if (ctl.type === 'password') {
          if (ctl.value) line += ' value="••••"';
        } else if (!['button', 'submit', 'reset', 'image'].includes(ctl.type)) {
          line += ' value=' + q(clean(ctl.value, 200));
        }
        if (ctl.readOnly) line += ' readonly';
        if (ctl.required) line += ' required';
      } else if (tag === 'SELECT') {
        const sel = Array.from(ctl.selectedOptions).map((o) => clean(o.label || o.text));
        line += ' value=' + q(sel.join(', '));
      } else if (el.isContentEditable && role === 'textbox') {
        line += ' value=' + q(clean(el.innerText, 200));
      }
      const ac = el.getAttribute('aria-checked');
      if (ac && !(tag === 'INPUT')) line += ac === 'true' ? ' checked' : ac === 'mixed' ? ' checked=mixed' : '';
      if (el.getAttribute('aria-selected') === 'true') line += ' selected';
      const ae = el.getAttribute('aria-expanded');
      if (ae === 'true' || ae === 'false') line += ' expanded=' + ae;
      const disabled = ctl.disabled || el.getAttribute('aria-disabled') === 'true';
      if (disabled) line += ' disabled';
      if (tag !== 'BODY' && el.ownerDocument.activeElement === ctl) line += ' focused';
      if (owner.invalid.has(ctl)) {
        if (ctl.validity && !ctl.validity.valid && ctl.validationMessage) line += ' invalid=' + q(clean(ctl.validationMessage, 200));
      }
      push(line);
      if (win === window) {
        // The lines of the elements in the viewport: a token budget cuts
        // the tree from here outward.
        const vr = lastRectEl === el ? lastRect : el.getBoundingClientRect();
        // (A container taller than the viewport that starts above it is
        // not what the viewport shows.)
        if (vr.bottom > 0 && vr.top < window.innerHeight && (vr.top >= 0 || vr.height <= window.innerHeight)) {
          if (viewFirst < 0) viewFirst = lines.length - 1;
          viewLast = lines.length - 1;
        }
      }

      if (!disabled) {
        if (tag === 'SELECT') {
          for (const o of ctl.options) if (!o.disabled) choices.push({name: 'select_option', args: [id, clean(o.label || o.text)]});
        } else if (['link', 'button', 'checkbox', 'radio', 'tab', 'menuitem', 'menuitemcheckbox',
          'menuitemradio', 'switch', 'treeitem', 'option', 'clickable'].includes(role)) {
          choices.push({name: 'click', args: [id]});
        }
      }
      // The element's own text is its name for these roles: do not repeat it.
      const childQuiet = quiet || (fromContent && name !== '');
      if (tag === 'SELECT' && ctl === el) { walk(el, depth + 1, true, style.cursor); flush(); return; }
      if (tag === 'TEXTAREA') return;
      walk(el, depth + 1, childQuiet, style.cursor);
      flush();
    }
    if (document.body) walk(document.body, 0, false, '');
    flush();
    flushIds();
    let status = 0;
    try {
      const nav = performance.getEntriesByType('navigation')[0];
      status = nav && nav.responseStatus || 0;
    } catch (e) { status = 0; }
    return {
      text: lines.join('\n'),
      url: location.href,
      title: document.title,
      count: count,
      choices: choices,
      status: status,
      viewFirst: viewFirst,
      viewLast: viewLast,
      scrollY: Math.round(window.scrollY),
      scrollMax: Math.max(0, Math.round(document.documentElement.scrollHeight - window.innerHeight)),
    };
  }

  // ---- actions -----------------------------------------------------------

  function describe(el) {
    const r = roleOf(el);
    return r ? 'a ' + r : 'a ' + el.tagName.toLowerCase() + ' element';
  }

  // parentOf crosses shadow roots: a shadow tree's top element's parent is
  // its host.
  function parentOf(e) {
    if (e.parentElement) return e.parentElement;
    const p = e.parentNode;
    return p && p.host ? p.host : null;
  }

  function visibleForAction(el) {
    for (let e = el; e; e = parentOf(e)) {
      const st = e.ownerDocument.defaultView.getComputedStyle(e);
      if (st.display === 'none') return false;
      if (e === el && (st.visibility === 'hidden' || st.visibility === 'collapse')) return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }

  function lookup(id) {
    labelMaps = new Map();
    find.detached = false;
    const el = find(id);
    if (!el) {
      if (find.detached) return {error: 'element ' + id + ' was removed from the page since it was observed (detached): use an id from the current observation'};
      return {error: 'no element with id ' + id + ' on the page: use an id from the current observation'};
    }
    if (!visibleForAction(el)) return {error: 'element ' + id + ' is hidden: it cannot be used now'};
    return {el};
  }

  // nameForError is how an error names an element: its id and line when it
  // has one, else its tag and text.
  function nameForError(el) {
    for (let e = el; e; e = parentOf(e)) {
      const id = e.getAttribute && e.getAttribute(ATTR);
      if (id) {
        const r = roleOf(e) || 'clickable';
        const n = clean(nameOf(e, r)[0] || textOf(e), 60);
        return '[' + id + '] ' + r + (n ? ' ' + q(n) : '');
      }
    }
    const t = clean(textOf(el), 60);
    let tag = el.tagName.toLowerCase();
    if (el.id) tag += '#' + el.id;
    else if (typeof el.className === 'string' && el.className.trim()) tag += '.' + el.className.trim().split(/\s+/)[0];
    return 'a ' + tag + (t ? ' ' + q(t) : '');
  }

  // hitAt returns the topmost element at (x, y) of el's document, inside
  // shadow roots.
  function hitAt(doc, x, y) {
    let hit = doc.elementFromPoint(x, y);
    for (let i = 0; hit && i < 32; i++) {
      const sr = hit.shadowRoot || P.shadows.get(hit);
      if (!sr) break;
      const h = sr.elementFromPoint(x, y);
      if (!h || h === hit) break;
      hit = h;
    }
    return hit;
  }

  function within(outer, e) {
    for (; e; e = parentOf(e)) if (e === outer) return true;
    return false;
  }

  // coverOf returns what a click at (x, y) on el would land on instead of
  // it, or null when it lands on el (or inside it, or on its label).
  function coverOf(el, x, y) {
    const hit = hitAt(el.ownerDocument, x, y);
    if (!hit || within(el, hit) || within(hit, el)) return null;
    const lab = hit.closest && hit.closest('label');
    if (lab && lab.control === el) return null;
    if (el.tagName === 'LABEL' && el.control === hit) return null;
    return hit;
  }

  // point scrolls element id into view and returns the centre of it in the
  // top viewport's coordinates, or an error for the agent. For a click
  // (mode 'click'), a disabled element or one covered by another is an
  // error: a person's click would do nothing, or hit the cover.
  function point(id, mode) {
    const r0 = lookup(id);
    if (r0.error) return r0;
    const el = r0.el;
    if (el.tagName === 'OPTION') {
      return {error: 'element ' + id + ' is an option: use select_option on its select'};
    }
    const ctl = el.tagName === 'LABEL' && el.control ? el.control : el;
    if (mode === 'click' && (ctl.matches(':disabled') || el.getAttribute('aria-disabled') === 'true')) {
      return {error: 'element ' + id + ' is ' + describe(ctl).replace(/^a /, 'a disabled ') + ': it cannot be clicked until it is enabled'};
    }
    let r = el.getBoundingClientRect();
    const vw = el.ownerDocument.defaultView;
    if (r.top < 0 || r.left < 0 || r.bottom > vw.innerHeight || r.right > vw.innerWidth || vw !== window) {
      el.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
      r = el.getBoundingClientRect();
    }
    let x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x < 0 || y < 0 || x > vw.innerWidth || y > vw.innerHeight) {
      return {error: 'element ' + id + ' is outside the viewport and cannot be scrolled to (its centre is at ' + Math.round(x) + ',' + Math.round(y) + ')'};
    }
    if (mode === 'click' || mode === 'drag') {
      const cover = coverOf(el, x, y);
      if (cover) {
        return {error: 'element ' + id + ' is covered by ' + nameForError(cover) + ': a click would land on that; close or move it first'};
      }
    }
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

  // dragPoints returns the centres of from and to, both in view.
  function dragPoints(from, to) {
    const a = point(from, 'drag');
    if (a.error) return a;
    const r0 = lookup(to);
    if (r0.error) return r0;
    const r = r0.el.getBoundingClientRect();
    const vw = r0.el.ownerDocument.defaultView;
    if (r.bottom < 0 || r.right < 0 || r.top > vw.innerHeight || r.left > vw.innerWidth) {
      return {error: 'drag: element ' + to + ' is out of view while ' + from + ' is in view: scroll so that both are on the screen'};
    }
    const b = point(to, 'hover');
    if (b.error) return b;
    const again = point(from, 'drag');
    if (again.error) return again;
    return {x: again.x, y: again.y, x2: b.x, y2: b.y, mutations: a.mutations};
  }

  function T() { return topPilot(); }

  // Text-like inputs are typed into; the others are set as their own
  // picker sets them, in the format the input keeps its value in.
  const TYPED = new Set(['text', 'search', 'email', 'password', 'tel', 'url', 'number', '']);
  const FORMATS = {
    date: 'a date as YYYY-MM-DD (e.g. 2026-12-04)',
    time: 'a time as HH:MM or HH:MM:SS, 24-hour (e.g. 14:30)',
    'datetime-local': 'a date and time as YYYY-MM-DDTHH:MM (e.g. 2026-12-04T14:30)',
    month: 'a month as YYYY-MM (e.g. 2026-12)',
    week: 'a week as YYYY-Www (e.g. 2026-W49)',
    color: 'a colour as #rrggbb (e.g. #ff8800)',
    range: 'a number',
  };
  const valueSetter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;

  function fillTarget(id) {
    const r0 = lookup(id);
    if (r0.error) return r0;
    let el = r0.el;
    if (el.tagName === 'LABEL' && el.control) el = el.control;
    return {el};
  }

  // prepareFill readies element id for text: it focuses and selects a field
  // that is typed into (the Go side types), or sets the value of one that is
  // not (set: true), or says why it cannot.
  function prepareFill(id, text) {
    const r0 = fillTarget(id);
    if (r0.error) return r0;
    const el = r0.el;
    const type = el.tagName === 'INPUT' ? (el.getAttribute('type') || '').toLowerCase() : '';
    const typed = (el.tagName === 'INPUT' && TYPED.has(type)) || el.tagName === 'TEXTAREA' || el.isContentEditable;
    const picked = el.tagName === 'INPUT' && Object.prototype.hasOwnProperty.call(FORMATS, el.type);
    if (!typed && !picked) {
      let hint = 'fill works on text fields and on date, time, colour and range inputs';
      if (el.type === 'checkbox' || el.type === 'radio') hint = 'use click to check it';
      else if (el.type === 'file') hint = 'use upload to choose a file';
      else if (el.tagName === 'SELECT') hint = 'use select_option';
      return {error: 'element ' + id + ' is ' + describe(el) + ', not a text field: ' + hint};
    }
    if (el.disabled || el.readOnly) return {error: 'element ' + id + ' is ' + (el.disabled ? 'disabled' : 'read-only')};
    const mutations = T().mutations;
    el.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
    el.focus();
    if (picked) {
      const before = el.value;
      apply(valueSetter, el, [text]);
      let ok = el.value !== '' || text === '';
      if (el.type === 'color') ok = el.value.toLowerCase() === String(text).trim().toLowerCase();
      if (el.type === 'range') ok = text !== '' && Number(el.value) === Number(text);
      if (!ok) {
        const got = el.value;
        apply(valueSetter, el, [before]);
        let want = FORMATS[el.type];
        if (el.type === 'range') want = 'a number from ' + (el.min || '0') + ' to ' + (el.max || '100') + (el.step && el.step !== 'any' && el.step !== '1' ? ' in steps of ' + el.step : '');
        void got;
        return {error: 'element ' + id + ' is a ' + el.type + ' input: it takes ' + want + ', not ' + q(String(text))};
      }
      el.dispatchEvent(new InputEvent('input', {bubbles: true, composed: true, inputType: 'insertReplacementText'}));
      el.dispatchEvent(new Event('change', {bubbles: true}));
      return {mutations, set: true};
    }
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

  // afterFill fires change on a typed field (as leaving it would) and says
  // when the field refused the text (a number field and a word).
  function afterFill(id, text) {
    const r0 = fillTarget(id);
    if (r0.error) return {};
    const el = r0.el;
    if (!el.isContentEditable) el.dispatchEvent(new Event('change', {bubbles: true}));
    if (el.type === 'number' && text !== '' && el.value === '') {
      return {error: 'element ' + id + ' is a number input: it takes a number such as 42 or 3.5, not ' + q(String(text))};
    }
    return {};
  }

  // prepareUpload checks that element id is a file input.
  function prepareUpload(id) {
    const r0 = fillTarget(id);
    if (r0.error) return r0;
    if (r0.el.tagName !== 'INPUT' || r0.el.type !== 'file') return {error: 'element ' + id + ' is ' + describe(r0.el) + ', not a file input: upload works on file choosers'};
    if (r0.el.disabled) return {error: 'element ' + id + ' is disabled'};
    return {mutations: T().mutations};
  }
  function fileInput(id) { return fillTarget(id).el; }

  // waitFor resolves when text appears in the observation (case and
  // spacing aside), or with an error after ms.
  function waitFor(text, ms) {
    const want = clean(String(text)).toLowerCase();
    const start = performance.now();
    const mutations = T().mutations;
    return new Promise((resolve) => {
      const check = () => {
        const o = observe();
        if (clean(o.text + ' ' + o.title).toLowerCase().includes(want)) return resolve({mutations});
        if (performance.now() - start >= ms) {
          return resolve({error: 'wait_for ' + q(String(text)) + ': the text did not appear within ' + Math.round(ms / 1000 * 10) / 10 + 's', mutations});
        }
        setTimeout(check, 25);
      };
      check();
    });
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

  // taken records an observation with the state it was taken in; fresh
  // says whether nothing at all has happened since: no mutation, input,
  // focus or load (the clock), no other observation, the same scroll.
  function taken(obs) { return {at: T().mutations, seq: P.obsSeq, x: window.scrollX, y: window.scrollY, obs}; }
  function fresh(rec) {
    return rec !== null && rec.at === T().mutations && rec.seq === P.obsSeq && rec.x === window.scrollX && rec.y === window.scrollY;
  }

  // prime observes a new document as soon as it has been quiet for the
  // default window after loading, before the Go side asks (it is still
  // waiting for the browser's load events): the settle after the
  // navigation takes it when it is still fresh.
  const PRIME_QUIET = 5;
  P.primed = null;
  function prime() {
    const t = T();
    const run = () => {
      if (t.unloading) return;
      const idle = performance.now() - t.lastMutation;
      if (idle < PRIME_QUIET) { setTimeout(run, PRIME_QUIET - idle); return; }
      try { P.primed = taken(observe()); } catch (e) { P.primed = null; }
    };
    setTimeout(run, 0);
  }
  // After the load event, as the Go side's settle (which waits for the
  // frame to stop loading): an earlier observation would number the
  // elements before the frames' content is there, and ids must not depend
  // on timing.
  if (isTop) {
    if (document.readyState !== 'complete') on(window, 'load', prime, {once: true});
    else prime();
  }

  // settle waits until the page has had no mutation for quietMs, counting
  // only when something changed since the action (mutations is the count
  // before it). It gives up after maxMs. A page that is unloading reports
  // so, for the Go side to wait for the navigation.
  function settle(mutations, quietMs, maxMs, netMs) {
    const t = T();
    const start = performance.now();
    if (maxMs === 0 && !t.unloading && document.readyState !== 'loading') {
      // Nothing happened (a refused action, noop): observe now.
      return {waited: 0, obs: observe()};
    }
    // spec is an observation taken while the quiet window runs: when it is
    // still fresh at the end, it is the answer, and the window's wait and
    // the walk overlap.
    let spec = null;
    return new Promise((resolve) => {
      const check = () => {
        if (t.unloading) return resolve({unloading: true, frame: t.unloading === 'frame'});
        const now = performance.now();
        // A document that is still being parsed (just after a navigation
        // committed) is not ready, whatever its mutation clock says.
        if (document.readyState === 'loading' && now - start < maxMs) {
          on(document, 'DOMContentLoaded', check, {once: true});
          return;
        }
        if (t.pending > 0 && now - start < Math.min(netMs, maxMs)) return setTimeout(check, 5);
        const idle = now - t.lastMutation;
        if (t.mutations === mutations || idle >= quietMs || now - start >= maxMs) {
          // The primed observation serves only the settle after a
          // navigation or a reset (mark -1).
          const pr = P.primed;
          P.primed = null;
          let rec = fresh(spec) ? spec : null;
          if (!rec && mutations === -1 && idle >= quietMs && fresh(pr)) rec = pr;
          return resolve({waited: now - start, obs: rec ? rec.obs : observe()});
        }
        if (!fresh(spec)) spec = taken(observe());
        const left = quietMs - (performance.now() - t.lastMutation);
        setTimeout(check, Math.max(1, left));
      };
      // One macrotask lets handlers that the action queued run first.
      setTimeout(check, 0);
    });
  }


  P.observe = observe;
  P.point = point;
  P.prepareFill = prepareFill;
  P.prepareUpload = prepareUpload;
  P.fileInput = fileInput;
  P.dragPoints = dragPoints;
  P.waitFor = waitFor;
  P.afterFill = afterFill;
  P.selectOption = selectOption;
  P.scroll = scroll;
  P.settle = settle;
  P.find = find;
  P.mark = () => ({mutations: T().mutations});
  P.clearUnloading = () => { T().unloading = false; return {}; };
})();
