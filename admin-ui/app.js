// mod_polycom console: the views by the address's #fragment (#/ the fleet,
// #/phone/<mac>, #/new, #/layers, #/import), so the back button and links
// work and nothing but the admin API is asked.
'use strict';

const VIEWS = ['fleet', 'phone', 'layers', 'import'];

function showView(name) {
  for (const v of VIEWS) {
    document.getElementById(`view-${v}`).hidden = v !== name;
  }
  for (const a of document.querySelectorAll('header nav a')) {
    if (a.getAttribute('href') === location.hash
        || (a.getAttribute('href') === '#/' && name === 'fleet' && !location.hash.startsWith('#/new'))) {
      a.setAttribute('aria-current', 'page');
    } else {
      a.removeAttribute('aria-current');
    }
  }
}

async function refreshCharts() {
  await loadCharts(document.getElementById('stale-after').value);
}

// Re-read the fleet with the current search, filter, order and page.
async function go() {
  document.body.dataset.loaded = 'loading';
  const load = fleet.load;
  try {
    if (await loadPhones()) {
      document.body.dataset.loaded = 'true';
    }
  } catch (err) {
    // A failure of a load that a newer one overtook is not this view's.
    if (fleet.load === load + 1) {
      notice(`Cannot load the fleet: ${err.message}`, true);
      document.body.dataset.loaded = 'error';
    }
  }
}

async function route() {
  const hash = location.hash || '#/';
  notice('');
  document.body.dataset.loaded = 'loading';
  try {
    if (hash.startsWith('#/phone/')) {
      showView('phone');
      await showPhone(hash.slice(8).toLowerCase());
    } else if (hash === '#/new') {
      showView('phone');
      await showPhone(null);
    } else if (hash === '#/layers') {
      showView('layers');
    } else if (hash === '#/import') {
      showView('import');
    } else {
      showView('fleet');
      // The table first; its counts, the pictures and the discovered MACs
      // once it is drawn.
      const { counted, current } = await loadPage();
      await Promise.all([counted, loadDiscovered(), refreshCharts()]);
      if (!current()) {
        return;     // a newer load of the fleet says when it is loaded
      }
    }
    document.body.dataset.loaded = 'true';
  } catch (err) {
    notice(`Cannot load: ${err.message}`, true);
    document.body.dataset.loaded = 'error';
  }
}

setupFleet();
setupPhone();
window.addEventListener('hashchange', route);
document.getElementById('stale-after').addEventListener('change', refreshCharts);
route();
