// The owner's panel: the site's leads, newest first, refreshed every two seconds. It asks the
// builder's backend, which adds the owner's panel token and forwards the query to embedcrm.
(() => {
  'use strict';
  const root = document.getElementById('panel');
  const body = document.getElementById('leads');
  const status = document.getElementById('status');
  const QUERY = `query($filter: LeadFilter) { leads(first: 50, filter: $filter) {
    totalCount edges { node { id title status createdAt stage { name }
      contact { name email phone } source { utmSource utmMedium utmCampaign referrer } } } } }`;

  const cell = (row, text, cls) => {
    const td = row.insertCell();
    td.textContent = text || '—';
    if (cls) td.className = cls;
  };
  const when = iso => new Date(iso).toLocaleString('ru-RU', {dateStyle: 'short', timeStyle: 'short'});
  const source = s => [s.utmSource, s.utmMedium, s.utmCampaign].filter(Boolean).join(' / ') ||
    (s.referrer ? new URL(s.referrer).host : 'прямой заход');

  async function refresh() {
    try {
      const response = await fetch(root.dataset.graphql, {
        method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({query: QUERY, variables: {filter: {siteId: root.dataset.site}}}),
      });
      const result = await response.json();
      if (result.errors) throw new Error(result.errors[0].message);
      const leads = result.data.leads;
      body.replaceChildren();
      for (const {node} of leads.edges) {
        const row = body.insertRow();
        row.dataset.lead = node.id;
        cell(row, when(node.createdAt));
        cell(row, node.contact && node.contact.name, 'name');
        cell(row, node.contact && [node.contact.email, node.contact.phone].filter(Boolean).join(', '));
        cell(row, node.title);
        cell(row, source(node.source), 'source');
        cell(row, node.stage && node.stage.name);
      }
      if (!leads.edges.length) cell(body.insertRow(), 'Заявок пока нет: отправьте форму на сайте.');
      status.textContent = `заявок: ${leads.totalCount}, обновлено ${new Date().toLocaleTimeString('ru-RU')}`;
    } catch (error) {
      status.textContent = `нет связи с CRM (${error.message}), повторим…`;
    }
  }
  refresh();
  setInterval(refresh, 2000);
})();
