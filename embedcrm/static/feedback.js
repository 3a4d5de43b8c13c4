/*! embedcrm feedback */
// The one question of a feedback link, drawn on the shop's own site. The widget loads this file
// only when the page's fragment holds `embedcrm-feedback=<token>` (a link from a message); the
// token is the only credential, so nothing is sent with cookies. Texts, scale and the answer so
// far come from the server, in the shop's language. Shadow DOM and a constructed stylesheet:
// the shop's styles do not leak in, and a CSP naming only the API origin is enough.
(() => {
  'use strict';
  const d = document, loc = location;
  const token = new URLSearchParams(loc.hash.slice(1)).get('embedcrm-feedback');
  if (!token || d.querySelector('embedcrm-feedback-host')) return;

  const me = d.currentScript;
  const widget = d.querySelector('script[data-site]');
  const api = ((me && me.getAttribute('data-api')) || (widget && widget.getAttribute('data-api'))
    || new URL(me ? me.src : loc.href, loc.href).origin).replace(/\/+$/, '');
  const url = api + '/v1/feedback/' + encodeURIComponent(token);

  const CSS = `
    :host { all: initial; }
    dialog { font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2430;
      background: #fff; border: 0; border-radius: 12px; padding: 20px; width: min(30rem, calc(100vw - 24px));
      box-sizing: border-box; box-shadow: 0 12px 40px rgb(0 0 0 / .25); }
    dialog::backdrop { background: rgb(15 20 30 / .45); }
    h2 { font-size: 1.15rem; margin: 0 2rem 12px 0; }
    fieldset { border: 0; padding: 0; margin: 0 0 12px; }
    legend { padding: 0; margin-bottom: 10px; font-weight: 600; }
    .scale { display: flex; flex-wrap: wrap; gap: 6px; }
    .scale label { position: relative; }
    .scale input { position: absolute; opacity: 0; inset: 0; margin: 0; cursor: pointer; }
    .scale span { display: inline-flex; align-items: center; justify-content: center; min-width: 2.4rem;
      height: 2.4rem; border: 1px solid #9aa3b2; border-radius: 8px; font-weight: 600; }
    .scale input:checked + span { background: #2456d3; border-color: #2456d3; color: #fff; }
    .scale input:focus-visible + span { outline: 3px solid #2456d3; outline-offset: 2px; }
    .ends { display: flex; justify-content: space-between; gap: 12px; font-size: .85rem; color: #4a5363; margin-top: 6px; }
    label.comment { display: block; margin-bottom: 12px; }
    textarea { display: block; width: 100%; box-sizing: border-box; margin-top: 4px; font: inherit; color: inherit;
      background: inherit; border: 1px solid #9aa3b2; border-radius: 8px; padding: 8px; min-height: 5rem; }
    button { font: inherit; cursor: pointer; }
    .send { background: #2456d3; color: #fff; border: 0; border-radius: 8px; padding: 10px 18px; font-weight: 600; }
    .send:disabled { opacity: .6; cursor: default; }
    .close { position: absolute; top: 10px; right: 12px; background: none; border: 0; font-size: 1.6rem;
      line-height: 1; color: inherit; padding: 4px 8px; }
    .error { color: #b3261e; margin: 0 0 10px; }
    @media (prefers-color-scheme: dark) {
      dialog { background: #1c2230; color: #e8ecf3; }
      .ends { color: #b7bfcc; }
      .scale span, textarea { border-color: #6d7687; }
      .error { color: #ff8a80; }
    }`;

  const el = (tag, attrs, ...children) => {
    const e = d.createElement(tag);
    for (const k in attrs || {}) if (attrs[k] != null) e.setAttribute(k, attrs[k]);
    e.append(...children);
    return e;
  };

  // The link is used: a reload or a shared address of the page does not ask again.
  const forget = () => history.replaceState(history.state, '', loc.pathname + loc.search);

  function draw(q) {
    const t = q.texts;
    const host = d.body.appendChild(el('embedcrm-feedback-host'));
    const root = host.attachShadow({mode: 'open'});
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];

    const close = el('button', {type: 'button', class: 'close', 'aria-label': t.close}, '×');
    const scale = el('div', {class: 'scale'}, ...q.scale.map(n => el('label', {},
      el('input', {type: 'radio', name: 'score', value: n, required: '', checked: n === q.score ? '' : null}),
      el('span', {'aria-hidden': 'true'}, String(n)))));
    // Each radio is named by its number for assistive technology; the span only draws it.
    scale.querySelectorAll('input').forEach(i => i.setAttribute('aria-label', i.value));
    const error = el('p', {class: 'error', role: 'alert'});
    const comment = el('textarea', {name: 'comment', maxlength: '2000'});
    const send = el('button', {type: 'submit', class: 'send'}, t.send);
    const form = el('form', {},
      el('fieldset', {'aria-describedby': 'ends'},
        el('legend', {}, t.question),
        scale,
        el('div', {class: 'ends', id: 'ends'}, el('span', {}, t.low), el('span', {}, t.high))),
      el('label', {class: 'comment'}, t.comment, comment),
      error, send);
    const dialog = el('dialog', {'aria-labelledby': 'title'}, el('h2', {id: 'title'}, t.title), close, form);
    root.append(dialog);

    const finish = () => { dialog.close(); host.remove(); forget(); };
    close.addEventListener('click', finish);
    dialog.addEventListener('cancel', ev => { ev.preventDefault(); finish(); });
    form.addEventListener('submit', ev => {
      ev.preventDefault();
      // The radios are required: the browser does not submit without a score.
      const chosen = form.querySelector('input:checked');
      send.disabled = true;
      error.textContent = '';
      fetch(url, {method: 'POST', credentials: 'omit', headers: {'Content-Type': 'text/plain;charset=UTF-8'},
        body: JSON.stringify({score: +chosen.value, comment: comment.value || null})})
        .then(r => r.json().catch(() => ({})).then(body => {
          if (!r.ok) throw new Error(body.error && body.error.message || String(r.status));
          form.replaceWith(el('p', {role: 'status'}, t.thanks));
          forget();
          close.focus();
        }))
        .catch(e => { error.textContent = e.message; send.disabled = false; });
    });
    dialog.showModal();
  }

  fetch(url, {credentials: 'omit'})
    .then(r => r.ok ? r.json() : Promise.reject(r.status))
    .then(draw, () => {});  // a link that is no longer valid draws nothing on the shop's page
})();
