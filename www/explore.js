// Asking the code questions: the pointer (mouse, touch, pen or Shift + arrows) over the code
// scatter asks Rust what the decoder draws there and which digit lies under it; two chosen
// digits ask for the path between them; strokes on the drawing pad and pictures of digits ask
// what the network makes of them, and their codes are marked on the scatter. Rust answers
// every question (explore.rs); this module only gathers pointer positions and strokes, and
// shows the grey images it gets back, pixel for pixel.

const $ = (id) => document.getElementById(id);

/** Steps between two chosen digits, and the drawing pad's size and pen, in pad units. */
const PATH_STEPS = 9;
const PAD_SIZE = 280;
const PEN = 18;
/** Shift + arrow moves the keyboard's decoding point this many CSS pixels. */
const KEY_STEP = 12;

/** Draw a grey image ({width, height, pixels in [0, 1]}) into a canvas, one pixel per pixel
 * (CSS scales it up, pixelated); null clears it. */
export function showImage(canvas, image) {
  const ctx = canvas.getContext('2d');
  // An empty box says it is waiting (CSS), rather than looking broken.
  canvas.classList.toggle('empty', !image);
  if (!image) {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    return;
  }
  canvas.width = image.width;
  canvas.height = image.height;
  ctx.putImageData(greyImageData(ctx, image), 0, 0);
}

function greyImageData(ctx, image) {
  const data = ctx.createImageData(image.width, image.height);
  image.pixels.forEach((v, i) => {
    const g = Math.round(Math.min(1, Math.max(0, v)) * 255);
    data.data.set([g, g, g, 255], 4 * i);
  });
  return data;
}

/** A row of grey images with a one-pixel gap, in one canvas. */
function showStrip(canvas, images) {
  const { width, height } = images[0];
  canvas.width = images.length * (width + 1) - 1;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#333';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  images.forEach((image, i) => ctx.putImageData(greyImageData(ctx, image), i * (width + 1), 0));
}

const digitName = (label) => (label == null ? 'a digit' : `${label === 8 ? 'an' : 'a'} ${label}`);
const numbers = (values, max = 8) => values.slice(0, max).map((v) => v.toFixed(2)).join(', ') + (values.length > max ? `, … (${values.length} in all)` : '');

/**
 * Wire the explore panel. `api`: { query(q), command(c), onError(msg) }; `scatterWidth()`: the
 * width (CSS px) the scatter is drawn at, as the layout told the worker.
 */
export function wireExplore(api, scatterWidth) {
  const scatter = $('canvas-scatter');
  const marks = scatterMarks(scatter, $('scatter-marks'));
  let pending = null; // the latest pointer position not yet asked about
  let asking = false;
  let keyPoint = null; // the keyboard's decoding point
  const chosen = []; // up to two digits (their scatter indices and labels) for a path

  /** One question in flight: each click's (it chooses a digit) in turn, then the pointer's
   * latest position only. */
  const choices = []; // clicks not yet asked about, in order
  async function ask(px, py, then) {
    if (then) choices.push({ px, py, then });
    else pending = { px, py };
    if (asking) return;
    asking = true;
    while (choices.length > 0 || pending) {
      const { px: x, py: y, then: next } = choices.shift() ?? pending;
      if (!next) pending = null;
      try {
        const answer = await api.query({ point: { px: x, py: y, width: scatterWidth() } });
        showPoint(answer.point);
        marks.hover(answer.point.digit?.frame ?? null);
        await next?.(answer.point);
      } catch (message) {
        $('decoded-caption').textContent = String(message);
      }
    }
    asking = false;
  }

  function showPoint(info) {
    showImage($('decoded'), info.decoded);
    const where = `code (${info.x.toFixed(2)}, ${info.y.toFixed(2)})`;
    const held = info.held == null ? '' : `; the layer's other units are held at those of the nearest validation digit (#${info.held})`;
    $('decoded-caption').textContent = info.decoded ? `What the decoder draws at ${where}${held}.` : `${where}: this layer has no decoder after it to draw with.`;
    $('decoded').setAttribute('aria-label', info.decoded ? `What the decoder draws at ${where}` : 'Nothing to decode at this layer');
    const digit = info.digit;
    // Under a phone's scatter, the same answer where the finger is.
    showImage($('answer-decoded'), info.decoded);
    showImage($('answer-digit'), digit?.input ?? null);
    $('answer-caption').textContent = info.decoded
      ? `Left: what the decoder draws at ${where}.${digit ? ` Right: ${digitName(digit.label)}, the digit under your finger.` : ''}`
      : `${where}: this layer has no decoder after it.`;
    $('inspect').classList.toggle('waiting', !digit);
    if (!digit) {
      showImage($('inspect-input'), null);
      showImage($('inspect-recon'), null);
      $('inspect-caption').textContent = 'No digit under the pointer here: the digit under it, and how the network draws it back, appear here.';
    }
    if (digit) {
      showImage($('inspect-input'), digit.input);
      showImage($('inspect-recon'), digit.reconstruction);
      $('inspect-caption').textContent = `Under the pointer: ${digitName(digit.label)} (validation digit #${digit.index}), left as given, right as drawn back. Its code: ${numbers(digit.code)}.`;
    }
  }

  async function choose(info) {
    if (!info?.digit) {
      // A click beside the digits is answered, not ignored.
      $('path').hidden = false;
      $('path-caption').textContent = 'No digit there: click (or tap) right on a digit to start a walk from it.';
      $('answer-caption').textContent = 'No digit there: tap right on a digit to start a walk from it.';
      return;
    }
    chosen.push({ index: info.digit.index, label: info.digit.label, frame: info.digit.frame });
    if (chosen.length > 2) chosen.splice(0, chosen.length - 1);
    const [a, b] = chosen;
    marks.ends(chosen.map((c) => c.frame));
    $('path').hidden = false;
    if (!b) {
      $('path-caption').textContent = `From ${digitName(a.label)} (#${a.index}) to… click (or tap) another digit.`;
      return;
    }
    try {
      const { path } = await api.query({ interpolate: { from: a.index, to: b.index, steps: PATH_STEPS } });
      showStrip($('path-code'), path.code);
      showStrip($('path-pixels'), path.pixels);
      $('path-caption').textContent = `From ${digitName(a.label)} (#${a.index}) to ${digitName(b.label)} (#${b.index}) in ${PATH_STEPS} steps: decoded from evenly spaced codes between theirs (top), and their pixels blended in the same proportions (bottom).`;
    } catch (message) {
      $('path-caption').textContent = String(message);
    }
    chosen.splice(0, 1);
  }

  scatter.addEventListener('pointermove', (e) => ask(e.offsetX, e.offsetY));
  scatter.addEventListener('pointerleave', () => marks.hover(null));
  scatter.addEventListener('pointerdown', (e) => ask(e.offsetX, e.offsetY));
  scatter.addEventListener('click', (e) => ask(e.offsetX, e.offsetY, choose));
  scatter.addEventListener('keydown', (e) => {
    if (!e.shiftKey && e.key !== 'Enter') return;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (e.key === 'Enter' && keyPoint) {
      ask(keyPoint.x, keyPoint.y, choose);
      e.preventDefault();
      return;
    }
    const move = moves[e.key];
    if (!move) return;
    e.preventDefault();
    const size = scatter.clientWidth;
    keyPoint ??= { x: size / 2, y: size / 2 };
    keyPoint = { x: Math.min(size - 1, Math.max(0, keyPoint.x + move[0] * KEY_STEP)), y: Math.min(scatter.clientHeight - 1, Math.max(0, keyPoint.y + move[1] * KEY_STEP)) };
    ask(keyPoint.x, keyPoint.y);
  });

  return { ...wirePad(api), clearMarks: () => marks.ends([]) };
}

/** The marks over the scatter: a frame round the digit under the pointer, rings round a walk's
 * two ends and the walk's straight path between them (a straight line in the code is one on
 * the scatter too: both axes are linear in it). Frames come from Rust in CSS pixels. */
function scatterMarks(scatter, overlay) {
  let hovered = null;
  let ends = [];
  const centre = ([l, t, w, h]) => [l + w / 2, t + h / 2];
  function draw() {
    const dpr = window.devicePixelRatio || 1;
    const [w, h] = [scatter.clientWidth, scatter.clientHeight];
    if (overlay.width !== Math.round(w * dpr) || overlay.height !== Math.round(h * dpr)) [overlay.width, overlay.height] = [Math.round(w * dpr), Math.round(h * dpr)];
    const ctx = overlay.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.lineWidth = 2;
    if (ends.length === 2) {
      ctx.strokeStyle = 'rgba(255, 209, 102, 0.9)';
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(...centre(ends[0]));
      ctx.lineTo(...centre(ends[1]));
      ctx.stroke();
      ctx.setLineDash([]);
    }
    for (const frame of ends) {
      const [x, y] = centre(frame);
      ctx.strokeStyle = '#ffd166';
      ctx.beginPath();
      ctx.arc(x, y, Math.max(frame[2], frame[3]) * 0.75, 0, 2 * Math.PI);
      ctx.stroke();
    }
    if (hovered) {
      ctx.strokeStyle = '#ffffff';
      ctx.strokeRect(hovered[0] - 1, hovered[1] - 1, hovered[2] + 2, hovered[3] + 2);
    }
  }
  return {
    hover(frame) { hovered = frame; draw(); },
    ends(frames) { ends = frames.filter(Boolean).slice(-2); draw(); },
  };
}

/** The drawing pad: strokes in pad units, drawn here as they go and made into a digit by Rust. */
function wirePad(api) {
  const pad = $('pad');
  const ctx = pad.getContext('2d');
  const strokes = [];
  let drawing = null; // the pointer id of the stroke under way
  let asking = false;
  let again = false;
  let markWanted = false; // a stroke ended: mark the drawing once the newest question is answered
  let pictures = []; // inputs made from pictures, marked on the scatter beside the drawing
  let drawn = null; // the drawing's input

  const toPad = (e) => [(e.offsetX * PAD_SIZE) / pad.clientWidth, (e.offsetY * PAD_SIZE) / pad.clientHeight];

  function repaint() {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, PAD_SIZE, PAD_SIZE);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = PEN;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    for (const stroke of strokes) {
      ctx.beginPath();
      ctx.moveTo(...stroke[0]);
      for (const p of stroke.slice(stroke.length > 1 ? 1 : 0)) ctx.lineTo(...p);
      if (stroke.length === 1) ctx.lineTo(stroke[0][0] + 0.01, stroke[0][1]);
      ctx.stroke();
    }
  }

  function showDrawing(info, what) {
    showImage($('drawn-input'), info?.input ?? null);
    showImage($('drawn-recon'), info?.reconstruction ?? null);
    $('drawn-corrupted-fig').hidden = !info?.corrupted;
    if (info?.corrupted) showImage($('drawn-corrupted'), info.corrupted);
    if (!info) {
      $('drawn-caption').textContent = '';
      return;
    }
    const classes = info.classes ? ` The classifier says ${info.classes.indexOf(Math.max(...info.classes))}.` : '';
    $('drawn-caption').textContent = `${what}: code ${numbers(info.code)}; it is marked with a ring on the scatter, which plots ${info.axes}.${classes}`;
  }

  async function mark() {
    const digits = [...(drawn ? [drawn] : []), ...pictures];
    await api.command({ mark: { digits } }).catch(api.onError);
  }

  /** Ask Rust for the digit the strokes make (the newest strokes only, one question at a time). */
  async function digitize(final) {
    markWanted ||= final;
    if (asking) {
      again = true;
      return;
    }
    asking = true;
    do {
      again = false;
      try {
        const { drawing: info } = await api.query({ digitize: { strokes, size: [PAD_SIZE, PAD_SIZE], pen: PEN } });
        if (strokes.length === 0) {
          // Cleared while the question was out: its answer is for strokes that are gone.
          markWanted = false;
          break;
        }
        showDrawing(info, 'Your drawing');
        drawn = info?.input.pixels ?? null;
      } catch (message) {
        $('drawn-caption').textContent = String(message);
      }
    } while (again);
    asking = false;
    if (markWanted) {
      markWanted = false;
      await mark();
    }
  }

  pad.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    drawing = e.pointerId;
    strokes.push([toPad(e)]);
    repaint();
  });
  pad.addEventListener('pointermove', (e) => {
    if (drawing !== e.pointerId) return;
    strokes.at(-1).push(toPad(e));
    repaint();
    digitize(false);
  });
  const end = (e) => {
    if (drawing !== e.pointerId) return;
    drawing = null;
    digitize(true);
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('pad-undo').onclick = () => {
    strokes.pop();
    repaint();
    if (strokes.length > 0) digitize(true);
    else clearDrawing();
  };
  function clearDrawing() {
    strokes.length = 0;
    drawn = null;
    repaint();
    showDrawing(null);
    mark();
  }
  $('pad-clear').onclick = clearDrawing;
  repaint();

  /** Pictures of digits: the browser decodes them to RGBA, Rust makes each an input. */
  return {
    async place(files, maxBytes) {
      const made = [];
      for (const file of files) {
        if (file.size > maxBytes) throw new Error(`${file.name} is larger than the ${maxBytes >> 20} MB a picture may be`);
        const bitmap = await createImageBitmap(file).catch(() => {
          throw new Error(`${file.name} is not a picture this browser can read`);
        });
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const c = canvas.getContext('2d');
        c.drawImage(bitmap, 0, 0);
        const { data } = c.getImageData(0, 0, bitmap.width, bitmap.height);
        const { drawing: info } = await api.query({ picture: { width: bitmap.width, height: bitmap.height, rgba: new Uint8Array(data.buffer) } });
        if (!info) throw new Error(`${file.name} looks empty: no digit was found in it`);
        made.push(info.input.pixels);
        showDrawing(info, `Your picture ${file.name}`);
      }
      pictures = made;
      await mark();
      return made.length;
    },
  };
}

/** The "what the code knows" table, from the latest figures (null: not measured yet). */
export function showKnowledge(knowledge) {
  const body = document.querySelector('#knowledge tbody');
  if (!knowledge) {
    body.replaceChildren();
    $('knowledge-caption').textContent = 'Measured every few seconds once training is under way, on labelled digits (not for classifiers or synthetic data).';
    return;
  }
  const pct = (v) => `${(100 * v).toFixed(1)} %`;
  const rows = [[`the code (${knowledge.units} numbers)`, knowledge.code]];
  if (knowledge.pca) rows.push([`PCA with ${knowledge.units} components`, knowledge.pca]);
  rows.push(['the raw pixels', knowledge.pixels]);
  body.replaceChildren(
    ...rows.map(([name, scores]) => {
      const tr = document.createElement('tr');
      const th = Object.assign(document.createElement('th'), { scope: 'row', textContent: name });
      tr.append(th, ...[scores.linear, scores.knn].map((v) => Object.assign(document.createElement('td'), { textContent: pct(v) })));
      return tr;
    }),
  );
  const count = (n) => Math.round(n).toLocaleString('en');
  $('knowledge-caption').textContent = `The share of ${count(knowledge.valid_digits)} validation digits whose class a simple classifier reads from each set of features, after ${count(knowledge.examples_seen)} training examples; the classifiers learn from ${count(knowledge.train_digits)} training digits. The loss graph's right-hand axis follows the code's nearest-neighbour score over time.`;
}
