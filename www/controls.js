// The settings controls in one table: each row names an element and the field of the session's
// State it shows (TensorFlow Playground keeps its settings this way). After every reply the
// page shows the State through this table; a change reads the table back into a training
// config. Defaults (what an optimiser or a noise starts from when picked) come from Rust's
// `describe` reply; nothing here knows a number of its own.

/** The optimisers' settings besides the learning rate (each control is `opt-<name>`). */
const OPTIMIZER_FIELDS = ['momentum', 'nesterov', 'rho', 'beta1', 'beta2', 'eps'];

/** Each control's element id and the field it shows: a path into the State, or a function of
 * the State giving one. Checkboxes, selects and number inputs read and show themselves. */
export const CONTROLS = [
  { id: 'seed', field: 'seed' },
  { id: 'lr', field: 'learning_rate' },
  { id: 'optimizer', field: 'config.optimizer.type' },
  ...OPTIMIZER_FIELDS.map((name) => ({ id: `opt-${name}`, field: `config.optimizer.${name}` })),
  { id: 'batch', field: 'config.batch_size' },
  { id: 'l2', field: 'config.l2_decay' },
  { id: 'l1', field: 'config.l1_decay' },
  { id: 'noise', field: 'config.noise.type' },
  // Masking and salt-and-pepper have a fraction, Gaussian noise a sigma: the noise's one number.
  { id: 'noise-level', field: (state) => `config.noise.${levelKey(state.config.noise)}` },
  { id: 'log-scale', field: 'view.log_y' },
];

/** The name of a noise's one numeric field ("fraction" or "sigma"), if it has one. */
function levelKey(noise) {
  return Object.keys(noise).find((key) => key !== 'type');
}

function pathOf(row, state) {
  return typeof row.field === 'function' ? row.field(state) : row.field;
}

/** The value at a dotted path, or undefined where the path leaves the object. */
export function get(object, path) {
  return path.split('.').reduce((value, key) => (value == null ? undefined : value[key]), object);
}

function set(object, path, value) {
  const keys = path.split('.');
  const last = keys.pop();
  keys.reduce((value, key) => value[key], object)[last] = value;
}

function read(element) {
  if (element.type === 'checkbox') return element.checked;
  if (element.type === 'number') return Number(element.value);
  return element.value;
}

/** Show `state` in every control. A control whose field this state lacks (momentum under
 * Adam, a level without noise) is hidden, or disabled where it stands alone. */
export function showState(state, $) {
  for (const row of CONTROLS) {
    const element = $(row.id);
    const path = pathOf(row, state);
    const value = path === undefined ? undefined : get(state, path);
    if (element.type === 'checkbox') element.checked = !!value;
    else element.value = value ?? '';
    const label = element.closest('[data-optional]');
    if (label) label.hidden = value === undefined;
    else element.disabled = value === undefined || value === null;
  }
}

/** The training config the settings controls ask for, starting from the one in force, and the
 * problems with what they say (an empty or malformed number is a problem, never a 0). An
 * optimiser of another kind starts from the settings the state offers for it (measured to keep
 * this preset training, where they were measured); a noise from its default level. */
export function readConfig(state, description, $) {
  const config = structuredClone(state.config);
  const problems = [];
  const type = $('optimizer').value;
  if (type !== config.optimizer.type) config.optimizer = structuredClone(state.optimizer_choices.find((c) => c.settings.type === type).settings);
  const noiseType = $('noise').value;
  if (noiseType !== config.noise.type) config.noise = structuredClone(description.noises.find((n) => n.type === noiseType));
  for (const row of CONTROLS) {
    const path = pathOf(row, { ...state, config });
    if (!path || !path.startsWith('config.') || path.endsWith('.type')) continue;
    const field = path.slice('config.'.length);
    // Fields the new optimiser or noise has not got stay out.
    if (get(config, field) === undefined) continue;
    // A freshly picked optimiser or noise keeps its defaults, not the hidden controls' values.
    const fresh = (field.startsWith('optimizer.') && type !== state.config.optimizer.type) || (field.startsWith('noise.') && noiseType !== state.config.noise.type);
    if (fresh) continue;
    const element = $(row.id);
    if (element.type === 'number' && (element.value.trim() === '' || !element.checkValidity())) {
      const name = element.closest('label')?.firstChild?.textContent?.trim() || row.id;
      problems.push({ id: row.id, message: `${name}: ${element.value.trim() === '' ? 'enter a number' : element.validationMessage}` });
      continue;
    }
    set(config, field, read(element));
  }
  return { config, problems };
}
