// Your runs: the list of runs this browser keeps (each tab trains and autosaves its own; the
// worker owns the storage and answers 'runs' and 'delete-runs'), with how much room they take.
// This module only draws the list and sends what the user asks for; it stores nothing itself.

const $ = (id) => document.getElementById(id);
/** The list is read again this often (ms), for what other tabs saved. */
const REFRESH_MS = 10_000;
const mb = (bytes) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

/** When a save happened, in words a person uses. */
export function ago(ms, now = Date.now()) {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

/**
 * Wire the list. `post(message)` reaches the worker; `titleOf(preset)` names a preset;
 * `openHere(id)` restores run `id` in this tab.
 */
export function wireRuns({ post, titleOf, openHere, download, say }) {
  let pictures = []; // object URLs of the list's pictures, let go when it is drawn again
  let asked = false; // persistent storage is asked for once, after the first save
  async function refresh() {
    let listed;
    try {
      listed = await post({ type: 'runs' });
    } catch {
      return; // the trainer is restarting: the next save refreshes the list
    }
    show(listed);
  }
  function show({ runs, usage, quota, persisted }) {
    for (const url of pictures) URL.revokeObjectURL(url);
    pictures = [];
    const items = runs.map((r) => {
      const li = document.createElement('li');
      const s = r.summary;
      if (s.picture) {
        // Its code as it looked when saved (the words beside it say what it is).
        const src = URL.createObjectURL(s.picture);
        pictures.push(src);
        li.append(Object.assign(document.createElement('img'), { src, alt: '', width: 48, height: 48, className: 'run-picture' }));
      }
      const loss = s.valid_mse == null ? '' : `, validation ${s.valid_mse.toFixed(4)} MSE/px`;
      const what = Object.assign(document.createElement('span'), {
        textContent: `${titleOf(s.preset)}: ${Math.round(s.examples_seen).toLocaleString('en')} examples${loss}, saved ${ago(s.saved_at)}${r.mine ? ' (this tab)' : r.open ? ' (open in another tab)' : ''}`,
      });
      const body = document.createElement('div');
      body.append(what);
      li.append(body);
      if (!r.mine) {
        const button = (text, label, onclick) => Object.assign(document.createElement('button'), { type: 'button', textContent: text, onclick, ariaLabel: `${label}: ${what.textContent}` });
        body.append(
          button('open here', 'open here', () => openHere(r.id)),
          button('new tab', 'open in a new tab', () => window.open(`${location.pathname}?run=${encodeURIComponent(r.id)}`, '_blank', 'noopener')),
          button('delete', 'delete', async () => show(await post({ type: 'delete-runs', runs: [r.id] }))),
        );
      }
      return li;
    });
    $('runs-list').replaceChildren(...items);
    $('runs-delete-all').hidden = !runs.some((r) => !r.mine);
    $('runs-export').hidden = runs.length === 0;
    const room = usage == null ? '' : `They and the page take ${mb(usage)}${quota ? ` of the ${mb(quota)} this browser allows it` : ''}. `;
    const kept = persisted ? 'The browser keeps them until you delete them.' : 'The browser may clear them if it runs short of space; when the page\'s room is full, the oldest runs are deleted first, never the one in use.';
    $('runs-storage').textContent = runs.length === 0
      ? 'No run is saved yet: this tab\'s run is saved within seconds of training.'
      : `${runs.length} run${runs.length === 1 ? '' : 's'} kept. ${room}${kept}`;
  }
  $('runs-delete-all').onclick = async () => {
    const { runs } = await post({ type: 'runs' });
    show(await post({ type: 'delete-runs', runs: runs.filter((r) => !r.mine).map((r) => r.id) }));
  };
  $('runs-export').onclick = async () => {
    try {
      const { blob, name, count } = await post({ type: 'export-runs' });
      download(name, blob);
      say(`Saved ${count} run${count === 1 ? '' : 's'} in ${name} (${mb(blob.size)}): each file inside is a snapshot; unzip it and load or drop any of them here to go on from it.`);
    } catch (message) {
      say(`The runs could not be exported: ${message}.`, true);
    }
  };
  // Other tabs save their runs too: look again now and then while this page is on screen.
  setInterval(() => document.hidden || refresh(), REFRESH_MS);
  return {
    refresh,
    /** After each autosave: the list again, and (once) a request for persistent storage. */
    async saved() {
      if (!asked && navigator.storage?.persist) {
        asked = true;
        await navigator.storage.persist().catch(() => false);
      }
      await refresh();
    },
  };
}
