/*! embedcrm widget */
(() => {
  'use strict';
  const w = window, d = document, loc = location, T0 = Date.now(), prev = w.embedcrm;
  if (prev?.version) return;

  let me = d.currentScript;
  if (!me || !me.getAttribute('data-site')) {
    me = [...d.querySelectorAll('script[data-site]')].reverse()
      .find(s => /widget(\/[^/?#]+)?\.js([?#]|$)/.test(s.src));
    if (!me) return;
  }
  const attr = n => me.getAttribute(n);
  const ORIGIN = new URL(me.src || loc.href, loc.href).origin;
  const BASE = (attr('data-api') || ORIGIN).replace(/\/+$/, '') + '/v1/sites/' + encodeURIComponent(attr('data-site'));
  const CT = 'text/plain;charset=UTF-8';
  const RATE = +attr('data-sample') || 1;
  const stat = (type, form) => { try { Math.random() * RATE < 1 && navigator.sendBeacon(BASE + '/events', new Blob([JSON.stringify({type, form, sample_rate: RATE})], {type: CT})); } catch (e) {} };

  const UI = {
    ru: {submit: 'Отправить', sending: 'Отправка…', ok: 'Спасибо! Заявка отправлена.', error: 'Ошибка отправки.',
      check: 'Проверьте поля.', retry: 'Нет связи. Отправим позже.', close: 'Закрыть', required: 'Заполните поле'},
    en: {submit: 'Send', sending: 'Sending…', ok: 'Thank you! Sent.', error: 'Sending failed.',
      check: 'Please check the fields.', retry: 'Offline. Will send later.', close: 'Close', required: 'Required'}
  };
  let cfg = null, cfgAt = 0, cfgTries = 0;
  const lang = () => /^ru/i.test(d.documentElement.lang || cfg?.site?.language) ? 'ru' : 'en';
  const ui = k => UI[lang()][k];
  const tr = v => !v ? '' : typeof v === 'string' ? v : v[lang()] || v.en || v.ru || '';

  const get = (k, s) => { try { return JSON.parse(w[s || 'localStorage'].getItem(k)); } catch (e) {} };
  const put = (k, v, s) => { try { w[s || 'localStorage'].setItem(k, JSON.stringify(v)); return 1; } catch (e) { return 0; } };

  const qs = new URLSearchParams(loc.search), ref = d.referrer;
  const pick = (keys, pre) => Object.fromEntries(keys.map(k => [k, qs.get(pre + k)]).filter(e => e[1]));
  const utm = pick(['source', 'medium', 'campaign', 'term', 'content'], 'utm_');
  const clickIds = pick(['gclid', 'yclid', 'fbclid', 'msclkid', 'ttclid', 'ymclid', 'dclid', 'wbraid', 'gbraid'], '');
  const touch = {page_url: loc.href, referrer: ref, utm, click_ids: clickIds, at: new Date(T0).toISOString()};
  const firstTouch = get('embedcrm:ft') || (put('embedcrm:ft', touch), touch);
  const landing = get('embedcrm:lp', 'sessionStorage') || (put('embedcrm:lp', loc.href, 'sessionStorage'), loc.href);
  const context = () => ({page_url: loc.href, referrer: ref, utm, click_ids: clickIds,
    first_touch: firstTouch, landing_page: landing, language: lang()});

  let memQ = [], lsOk = 1;
  const qGet = () => [].concat(lsOk && get('embedcrm:q') || memQ).filter(it => it?.b && Date.now() - it.at < 6048e5);
  const qPut = q => { memQ = q; lsOk = lsOk && put('embedcrm:q', q); };
  const qSet = it => qPut(qGet().filter(x => x.id !== it.id).concat(it));
  const qDel = id => qPut(qGet().filter(x => x.id !== id));

  const uuid = () => crypto.randomUUID ? crypto.randomUUID() : [...crypto.getRandomValues(new Uint8Array(16))].map(b => (b | 256).toString(16).slice(1)).join('');

  let uid = 0;
  const nid = () => 'ecrm-' + ++uid;
  const el = (tag, cls, text, attrs) => {
    const e = d.createElement(tag);
    e.className = cls;
    e.textContent = text || '';
    for (const k in attrs) if (attrs[k] != null) e.setAttribute(k, attrs[k]);
    return e;
  };
  const S = new WeakMap(), E = new WeakMap(), rendered = new WeakSet(), bound = [], toRender = [];
  const ident = {}, hooks = {submitted: [], error: []};
  const hpName = () => cfg?.honeypot_field || 'website';
  const conf = key => cfg?.forms?.[key];

  const setErr = (c, msg) => {
    let e = E.get(c);
    if (!e) {
      if (!msg) return;
      E.set(c, e = el('span', 'ecrm-error', '', {id: nid()}));
      c.after(e);
      c.setAttribute('aria-describedby', ((c.getAttribute('aria-describedby') || '') + ' ' + e.id).trim());
    }
    e.textContent = msg;
    e.hidden = !msg;
    c.setAttribute('aria-invalid', !!msg);
  };
  const lab = c => (c.labels?.[0]?.textContent || c.placeholder || '').replace(/\s+/g, ' ').trim();
  const keyOf = c => (c.name || c.id || lab(c)).slice(0, 64);
  const controls = f => [...f.elements].filter(c => keyOf(c) && c.className !== 'ecrm-hp');
  const luhn = v => /^\d{13,19}$/.test(v = v.replace(/[\s-]/g, '')) && ![...v].reverse().reduce((s, d, i) => s + (d *= i % 2 + 1) - (d > 9) * 9, 0) % 10;
  const secret = c => /passw|file/.test(c.type) || /\bcc-|card.?n|cvv|cvc|passw|one-time|парол/i.test([c.autocomplete, c.name, c.id]) || luhn(c.value);
  const status = (f, msg, state) => {
    S.get(f).st.textContent = msg;
    S.get(f).st.setAttribute('data-state', state || '');
  };
  const validate = f => {
    const bad = controls(f).filter(c => {
      const ok = !c.willValidate || c.checkValidity();
      setErr(c, ok ? '' : c.validity.valueMissing ? ui('required') : c.validationMessage);
      return !ok;
    });
    if (bad[0]) { bad[0].focus(); status(f, ui('check'), 'err'); }
    return !bad[0];
  };

  const collect = f => {
    const fields = {}, seen = {}, withheld = [], r = {fields, seen, withheld}, els = [...f.elements], count = {};
    els.forEach(c => { count[c = keyOf(c)] = -~count[c]; });
    els.forEach(c => {
      const n = keyOf(c), ty = c.type, box = ty === 'checkbox', many = count[n] > 1, as = c.dataset.embedcrmField;
      if (!n || c.disabled || as === 'ignore' || /^(submit|button|reset|image|fieldset)$/.test(ty) || n === (cfg?.form_token_field || 'form_token')) return;
      if (c.className === 'ecrm-hp') return r.honeypot = c.value;
      if (secret(c)) return withheld.push(n);
      seen[n] = {type: ty, autocomplete: c.autocomplete, id: c.id, label: lab(c).slice(0, 200), field: as};
      if (box && !many) n === 'consent' || as === 'consent' ? r.consent = c.checked : fields[n] = c.checked;
      else if (box) c.checked && (fields[n] = fields[n] || []).push(c.value);
      else if (ty === 'radio') c.checked && (fields[n] = c.value);
      else {
        const v = ty === 'select-multiple' ? [...c.selectedOptions].map(o => o.value) : c.value;
        fields[n] = n in fields ? [].concat(fields[n], v) : v;
      }
    });
    return r;
  };

  const build = (form, c, filled) => {
    for (const k in ident) if (ident[k] && (c.fields[k] == null || c.fields[k] === '')) c.fields[k] = ident[k];
    return Object.assign({submission_id: uuid(), form, context: context(), form_token: cfg?.form_token, filled_ms: Math.max(0, Math.round(filled))}, c);
  };

  const inflight = {}, waiting = {}, beaconed = {};
  const later = (it, ms) => setTimeout(send, ms, it);
  const enqueue = (b, f) => {
    const it = {id: b.submission_id, u: BASE + '/submissions', b, at: Date.now(), n: 0, next: 0};
    qSet(it);
    if (f) waiting[it.id] = f;
    send(it);
    return it.id;
  };

  function send(it, now) {
    if (inflight[it.id]) return;
    it = qGet().find(x => x.id === it.id) || waiting[it.id] && it;
    if (!it) return;
    if (!it.b.form_token) {
      if (!cfg) return;
      it.b.form_token = cfg.form_token;
      it.next = cfgAt + 3e3;
      qSet(it);
    }
    if (!now && it.next > Date.now()) return later(it, it.next - Date.now());
    inflight[it.id] = 1;
    const body = JSON.stringify(it.b);
    fetch(it.u, {method: 'POST', mode: 'cors', credentials: 'omit', keepalive: body.length < 6e4, headers: {'Content-Type': CT}, body})
      .then(r => r.json().catch(() => ({})).then(j => result(it, r.status, j?.error || {}, r.headers.get('Retry-After'))),
        () => result(it, 0, {}));
  }

  function result(it, st, e, retryAfter) {
    delete inflight[it.id];
    const f = waiting[it.id], err = {code: e.code || (st ? 'http_' + st : 'network_error'), message: e.message || '', fields: e.fields || null};
    if (st === 403 && /token/.test(e.code) && !it.rt) {
      it.rt = 1; it.b.form_token = null; qSet(it); return loadConfig(1);
    }
    if (st && st < 500 && st !== 408 && st !== 429) {
      qDel(it.id); delete waiting[it.id];
      return finish(it, f, st > 299 && err);
    }
    it.next = Date.now() + (retryAfter > 0 ? retryAfter * 1e3 : backoff(it.n));
    qSet(it);
    later(it, it.next - Date.now());
    if (!it.n++) finish(it, f, err, 1);
  }

  function finish(it, f, err, willRetry) {
    const detail = {submission_id: it.id, form: it.b.form}, s = f && S.get(f), type = err ? 'error' : 'submitted';
    if (err) { detail.error = err; detail.will_retry = !!willRetry; }
    if (s) {
      if (!willRetry) busy(f, s.busy = 0);
      if (!err) {
        f.reset();
        controls(f).forEach(c => setErr(c, ''));
        s.t0 = Date.now();
        status(f, tr(conf(s.key)?.success_message) || ui('ok'), 'ok');
      } else status(f, ui(willRetry ? 'retry' : fieldErrors(f, err.fields) ? 'check' : 'error'), willRetry ? 'wait' : 'err');
    }
    (f?.isConnected ? f : d).dispatchEvent(new CustomEvent('embedcrm:' + type, {bubbles: true, detail}));
    hooks[type].forEach(cb => Promise.resolve(detail).then(cb));
  }

  const fieldErrors = (f, errs) => {
    const hit = controls(f).filter(c => errs && keyOf(c) in errs);
    hit.forEach(c => setErr(c, errs[keyOf(c)]));
    hit[0]?.focus();
    return errs;
  };

  const flush = now => qGet().forEach(it => send(it, now));
  const beacon = () => qGet().forEach(it => {
    if (inflight[it.id] || beaconed[it.id] || !it.b.form_token) return;
    try { beaconed[it.id] = navigator.sendBeacon(it.u, new Blob([JSON.stringify(it.b)], {type: CT})); } catch (e) {}
  });

  const busy = (f, on) => {
    f.querySelectorAll('[type=submit],button:not([type])').forEach(b => { b.disabled = !!on; });
    f.setAttribute('aria-busy', !!on);
  };

  function onSubmit(ev) {
    const f = ev.currentTarget, s = S.get(f);
    ev.preventDefault();
    if (s.busy || !validate(f)) return;
    const c = collect(f);
    busy(f, s.busy = 1);
    status(f, ui('sending'));
    enqueue(build(s.key, c, Date.now() - (s.t0 || Date.now())), f);
  }

  function bind(f, hidden) {
    if (S.has(f)) return;
    const s = {key: f.getAttribute('data-embedcrm'), t0: hidden ? 0 : Date.now()};
    S.set(f, s);
    bound.push(f);
    s.hp = f.appendChild(el('input', 'ecrm-hp', '', {type: 'text', name: hpName(), tabindex: -1, autocomplete: 'off', hidden: ''}));
    s.st = f.querySelector('[data-embedcrm-status],.ecrm-status') || f.appendChild(el('div', 'ecrm-status', '', {role: 'status'}));
    s.st.setAttribute('aria-live', 'polite');
    f.addEventListener('submit', onSubmit);
    hidden || stat('view', s.key);
    const go = () => { s.t0 = s.t0 || Date.now(); s.go || s.auto || stat('start', s.key, s.go = 1); };
    f.addEventListener('focusin', go);
    ['input', 'change'].forEach(t => f.addEventListener(t, ev => go(E.has(ev.target) && setErr(ev.target, ''))));
  }

  const field = fd => {
    const id = nid(), type = fd.type || 'text', box = type === 'checkbox';
    const wrap = el('div', 'ecrm-field ecrm-field-' + type);
    const label = el('label', 'ecrm-label', tr(fd.label) || fd.name, {for: id});
    const a = {id, name: fd.name, 'aria-describedby': id + '-err'};
    const c = /^(textarea|select)$/.test(type) ? el(type, 'ecrm-input', '', a)
      : el('input', box ? 'ecrm-check' : 'ecrm-input', '', {...a, type: /^(email|tel|number|date|checkbox)$/.test(type) ? type : 'text',
        autocomplete: {name: 'name', email: 'email', phone: 'tel', company: 'organization'}[fd.name]});
    if (type === 'select') [{value: ''}].concat(fd.options || []).forEach(o => c.add(el('option', '', tr(o.label) || o.value, {value: o.value})));
    if (fd.required) {
      c.required = true;
      c.setAttribute('aria-required', 'true');
      label.append(el('span', 'ecrm-req', ' *', {'aria-hidden': 'true'}));
    }
    const err = el('div', 'ecrm-error', '', {id: id + '-err', hidden: ''});
    E.set(c, err);
    box ? wrap.append(c, label, err) : wrap.append(label, c, err);
    return wrap;
  };

  let css;
  function render(target) {
    if (!cfg) return toRender.push(target);
    const key = target.getAttribute('data-embedcrm-render'), fc = conf(key);
    if (!fc || rendered.has(target)) return;
    rendered.add(target);
    const href = attr('data-css') || ORIGIN + '/widget.css';
    if (!css && href !== 'none') css = d.head.appendChild(el('link', '', '', {rel: 'stylesheet', href}));
    const tid = nid(), title = tr(fc.title), popup = /^(popup|floating)$/.test(fc.display);
    const box = el(popup ? 'dialog' : 'div', 'ecrm ecrm-' + (popup ? 'dialog' : 'inline'), '', {'aria-labelledby': title ? tid : null});
    const inner = popup ? box.appendChild(el('div', 'ecrm-dialog-body')) : box;
    const f = el('form', 'ecrm-form', '', {'data-embedcrm': key, novalidate: ''});
    const fields = (fc.fields || []).filter(fd => fd?.name);
    if (fc.consent_text && !fields.some(fd => fd.name === 'consent')) fields.push({name: 'consent', type: 'checkbox', label: fc.consent_text, required: 1});
    fields.forEach(fd => f.append(field(fd)));
    f.append(el('button', 'ecrm-submit', tr(fc.button_label) || ui('submit'), {type: 'submit'}));
    bind(f, popup);
    if (title) inner.append(el('h2', 'ecrm-title', title, {id: tid}));
    inner.append(f);
    if (!popup) return target.append(box);

    const x = el('button', 'ecrm-close', '×', {type: 'button', 'aria-label': ui('close')});
    const open = el('button', 'ecrm-open' + (fc.display === 'floating' ? ' ecrm-float' : ''), title || ui('submit'), {type: 'button', 'aria-haspopup': 'dialog'});
    const show = () => {
      const s = S.get(f);
      s.auto = 1;
      box.open || box.showModal();
      s.v || stat('view', key, s.v = 1);
      (f.querySelector('.ecrm-input,.ecrm-check') || x).focus();
      s.auto = 0;
    };
    const hide = () => box.close();
    box.addEventListener('click', ev => ev.target === box && hide());
    box.addEventListener('close', () => open.focus());
    open.addEventListener('click', show);
    x.addEventListener('click', hide);
    inner.append(x);
    target.append(open, box);
  }

  const scan = root => {
    const all = sel => [...root.querySelectorAll(sel)].concat(root.matches?.(sel) ? [root] : []);
    all('form[data-embedcrm]').forEach(f => bind(f));
    all('[data-embedcrm-render]').forEach(render);
  };

  const backoff = n => Math.min(6e4, 1e3 * 2 ** n * (0.75 + Math.random() / 2));
  function loadConfig(fresh) {
    fetch(BASE + '/config', {mode: 'cors', credentials: 'omit', cache: fresh ? 'reload' : 'default'})
      .then(r => r.ok ? r.json() : Promise.reject(r.status))
      .then(c => {
        cfg = c;
        cfgTries = 0;
        cfgAt = Date.now();
        bound.forEach(f => { S.get(f).hp.name = hpName(); });
        toRender.splice(0).forEach(render);
        flush();
      }, st => {
        if (!(st > 399 && st < 500 && st !== 408 && st !== 429)) setTimeout(loadConfig, backoff(cfgTries++));
      });
  }

  const ready = fn => d.readyState === 'loading' ? d.addEventListener('DOMContentLoaded', fn) : fn();
  const run = c => {
    const a = c[1];
    if (c[0] === 'identify') Object.assign(ident, a);
    if (c[0] === 'on' && hooks[a]) hooks[a].push(c[2]);
    if (c[0] === 'submit') return enqueue(build(a.form, {fields: {...a.fields}, consent: a.consent}, Date.now() - T0));
    if (c[0] === 'render') ready(() => (typeof a === 'string' ? d.querySelectorAll(a) : [a]).forEach(scan));
  };
  w.embedcrm = {version: '1.1.0', push: (...cmds) => cmds.map(run).pop()};
  if (Array.isArray(prev)) prev.forEach(c => Promise.resolve(c).then(run));

  // A feedback link from a message opens the shop's site with its token in the fragment: the
  // question has a script of its own, loaded only then.
  /[#&]embedcrm-feedback=/.test(loc.hash) && d.head.append(el('script', '', '', {src: ORIGIN + '/feedback.js'}));
  loadConfig();
  w.addEventListener('pagehide', beacon);
  d.addEventListener('visibilitychange', () => d.hidden && beacon());
  w.addEventListener('online', () => flush(1));
  ready(() => { scan(d); flush(); });
})();
