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

/** The training config the settings controls ask for, starting from the one in force. An
 * optimiser or noise of another kind starts from its defaults in `description`; the learning
 * rate carries over to an optimiser that has one. */
export function readConfig(state, description, $) {
  const config = structuredClone(state.config);
  const type = $('optimizer').value;
  if (type !== config.optimizer.type) {
    const lr = config.optimizer.lr;
    config.optimizer = structuredClone(description.optimizers.find((o) => o.type === type));
    if ('lr' in config.optimizer && lr !== undefined) config.optimizer.lr = lr;
  }
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
    if (!fresh) set(config, field, read($(row.id)));
  }
  return config;
}
