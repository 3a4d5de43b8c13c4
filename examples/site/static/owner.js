// The owner's page: embedcrm's panel, with tokens from this builder's backend. This is all the
// code a host writes; the panel script itself comes from embedcrm (see the page's <head>).
const slug = location.pathname.split('/').pop();
embedcrm.panel.init({
  // Called at start, before the token expires and after a 401; each call mints a fresh token.
  fetchToken: async () => {
    const response = await fetch(`/owner/${slug}/token`, {method: 'POST'});
    if (!response.ok) throw new Error(`token: HTTP ${response.status}`);
    return response.text();
  },
  locale: document.documentElement.lang,
  appearance: {colorScheme: 'light', variables: {colorPrimary: '#2f6fed', borderRadius: '8px'}},
});
