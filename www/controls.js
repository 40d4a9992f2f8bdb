// The settings controls, built from the table Rust describes (`describe().settings`, written
// once in crate/src/session/settings.rs): a row per setting with its key, its labels and help,
// the command that sets it, where its value lives in the State (JSON pointers) and the values
// it takes. This file makes a control for each training setting, shows the State in them, and
// reads them back into a training config. It knows no setting, option or limit of its own: Rust
// checks every value and its sentence is shown next to the control.

/** A row's control id: its key with dashes ("noise_level" → "noise-level"). */
export const idOf = (key) => key.replaceAll('_', '-');

/** The value at a JSON pointer ("/config/optimizer/lr"), or undefined where it leaves the object. */
export function at(object, pointer) {
  return pointer.split('/').slice(1).reduce((value, key) => (value == null ? undefined : value[key]), object);
}

function put(object, pointer, value) {
  const keys = pointer.split('/').slice(1);
  const last = keys.pop();
  keys.reduce((v, key) => v[key], object)[last] = value;
}

const parentOf = (pointer) => pointer.slice(0, pointer.lastIndexOf('/'));

/** The row's pointer that exists in `state`, if any (momentum has none under Adam). */
function pathIn(row, state) {
  return row.paths.find((p) => at(state, p) !== undefined);
}

/** The training settings' rows: those `SetConfig` changes. */
export const configRows = (description) => description.settings.filter((row) => row.door === 'config');

/** Make a control for each training setting. A row goes where the page has a slot for it
 * (`[data-setting-slot=KEY]`), else into `container`, in table order; `onChange(row)` runs
 * when its control changes. */
export function buildControls(description, container, onChange) {
  for (const row of configRows(description)) {
    const id = idOf(row.key);
    let input;
    if (row.kind === 'choice') {
      input = document.createElement('select');
      input.append(...row.options.map(([value, title]) => new Option(title, value)));
    } else {
      input = document.createElement('input');
      input.type = row.kind === 'switch' ? 'checkbox' : 'text';
      if (row.kind !== 'switch') {
        input.inputMode = row.kind === 'whole' ? 'numeric' : 'decimal';
        input.className = 'short';
        input.spellcheck = false;
        input.autocomplete = 'off';
      }
    }
    input.id = id;
    input.addEventListener('change', () => onChange(row));
    const help = Object.assign(document.createElement('span'), { id: `${id}-help`, className: 'visually-hidden', textContent: row.range ? `${row.help} It takes ${row.range}.` : row.help });
    const error = Object.assign(document.createElement('span'), { id: `${id}-error`, className: 'setting-error error' });
    input.setAttribute('aria-describedby', `${id}-help ${id}-error`);
    const label = document.createElement('label');
    label.className = 'setting';
    label.dataset.setting = row.key;
    label.title = row.help;
    label.append(`${row.short} `, input, help, error);
    (document.querySelector(`[data-setting-slot="${row.key}"]`) ?? container).append(label);
  }
}

/** Show `state` in every control. A control whose setting has no place in this state (momentum
 * under Adam, a level without noise) is hidden, or disabled where `keep` names it. */
export function showState(state, description, $, keep = []) {
  for (const row of configRows(description)) {
    const element = $(idOf(row.key));
    const path = pathIn(row, state);
    const value = path === undefined ? undefined : at(state, path);
    if (element.type === 'checkbox') element.checked = !!value;
    else if (element.getAttribute('aria-invalid') !== 'true' || value === undefined) element.value = value ?? '';
    const label = element.closest('label');
    if (keep.includes(row.key)) element.disabled = value === undefined;
    else label.hidden = value === undefined;
  }
}

/** Mark one control's value as refused, with the sentence next to it (or clear it). */
export function markControl(key, message, $) {
  const element = $(idOf(key));
  if (message) element.setAttribute('aria-invalid', 'true');
  else element.removeAttribute('aria-invalid');
  $(`${idOf(key)}-error`).textContent = message ?? '';
}

/** The training config the controls ask for, from the one in force, and the problems with what
 * they say (an empty or malformed number is a problem, never a 0). A choice picked anew (an
 * optimiser, a noise) brings the settings Rust says it starts from here (`state.choices`), not
 * the hidden controls' values. */
export function readConfig(state, description, $) {
  const next = { config: structuredClone(state.config) };
  const problems = [];
  const fresh = [];
  for (const row of configRows(description)) {
    const path = pathIn(row, next);
    if (path === undefined || fresh.some((p) => path.startsWith(`${p}/`))) continue;
    const element = $(idOf(row.key));
    if (row.kind === 'choice') {
      if (element.value !== at(next, path)) {
        const choice = state.choices.find(([key]) => key === row.key)[1].find((c) => c.type === element.value);
        put(next, parentOf(path), structuredClone(choice));
        fresh.push(parentOf(path));
      }
      continue;
    }
    if (row.kind === 'switch') {
      put(next, path, element.checked);
      continue;
    }
    const text = element.value.trim();
    const number = Number(text);
    if (text === '' || !Number.isFinite(number) || (row.kind === 'whole' && !Number.isInteger(number))) {
      const want = row.kind === 'whole' ? 'a whole number' : 'a number';
      problems.push({ key: row.key, message: `${row.short}: ${text === '' ? `enter ${want}` : `"${text}" is not ${want}`}` });
      continue;
    }
    put(next, path, number);
  }
  return { config: next.config, problems };
}
