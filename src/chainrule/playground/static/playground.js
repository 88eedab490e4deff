// chainrule playground: the page. Plain JavaScript on <canvas>; all numbers come from the server.
"use strict";

const ORANGE = [245, 147, 34], GREY = [232, 234, 235], BLUE = [8, 119, 189];
const PALETTE = [[245, 147, 34], [8, 119, 189], [46, 160, 67], [142, 68, 173], [214, 39, 40], [23, 190, 207], [188, 189, 34], [127, 127, 127]];
const HASH_ORDER = ["activation", "regularization", "batchSize", "dataset", "regDataset", "learningRate",
  "regularizationRate", "noise", "networkShape", "seed", "showTestData", "discretize", "percTrainData", "x", "y",
  "xTimesY", "xSquared", "ySquared", "cosX", "sinX", "cosY", "sinY", "collectStats", "problem", "initZero", "hideText",
  "loss", "optimizer", "schedule", "layerActivations", "dropout", "skip", "init"];
const NUMBERS = new Set(["batchSize", "learningRate", "regularizationRate", "noise", "percTrainData", "dropout"]);
const BOOLEANS = new Set(["showTestData", "discretize", "x", "y", "xTimesY", "xSquared", "ySquared", "cosX", "sinX",
  "cosY", "sinY", "collectStats", "initZero", "hideText", "skip"]);
const CHOICES = {
  activation: ["relu", "tanh", "sigmoid", "linear"], regularization: ["none", "L1", "L2"],
  dataset: ["circle", "xor", "gauss", "spiral", "spiral3", "gauss3", "custom"], regDataset: ["reg-plane", "reg-gauss", "reg-custom"],
  problem: ["classification", "regression"], loss: ["auto", "mse", "cross_entropy"], optimizer: ["sgd", "momentum", "adam"],
  schedule: ["constant", "step", "exponential", "cosine"], init: ["playground", "xavier", "he"],
};
const FEATURE_ORDER = ["x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY"];
const DATASET_NAMES = {circle: "Circle", xor: "Exclusive or", gauss: "Gaussian", spiral: "Spiral", spiral3: "3-arm spiral",
  gauss3: "3 Gaussians", "reg-plane": "Plane", "reg-gauss": "Multi Gaussian"};

const $ = (id) => document.getElementById(id);
const app = { ws: null, settings: null, state: null, frame: null, history: [], hidden: {}, links: [], biases: [],
  hover: null, editing: null, explain: null, previews: null, pendingHash: null };

// ---------- colours ----------
function mix(a, b, t) { return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]; }
function scale(v) { v = Math.max(-1, Math.min(1, v)); return v < 0 ? mix(GREY, ORANGE, -v) : mix(GREY, BLUE, v); }
function css(c, alpha) { return `rgba(${c[0] | 0},${c[1] | 0},${c[2] | 0},${alpha === undefined ? 1 : alpha})`; }
function labelColour(label) {
  const st = app.state;
  if (st.problem === "regression") return scale(label);
  if (st.n_classes > 2) return PALETTE[label % PALETTE.length];
  return label === 1 ? BLUE : ORANGE;
}

// ---------- decoding ----------
function bytes(b64) { const s = atob(b64); const a = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); return a; }
function floats(b64) { return new Float32Array(bytes(b64).buffer); }
function unit(b) { return b / 127.5 - 1; }

// ---------- URL hash (the reference's keys) ----------
function parseHash() {
  const out = {}, hide = {};
  for (const pair of window.location.hash.slice(1).split("&")) {
    if (!pair) continue;
    const [name, raw] = pair.split("=");
    const value = decodeURIComponent(raw === undefined ? "" : raw);
    if (name.endsWith("_hide")) { hide[name.slice(0, -5)] = value === "true"; continue; }
    if (value.trim() === "" && name !== "networkShape") continue;
    if (NUMBERS.has(name)) { if (!isNaN(+value)) out[name] = +value; }
    else if (BOOLEANS.has(name)) out[name] = value !== "false";
    else if (name === "networkShape") out[name] = value.trim() === "" ? [] : value.split(",").map(Number);
    else if (name === "layerActivations") out[name] = value.split(",");
    else if (name === "seed") out[name] = value;
    else if (CHOICES[name] && CHOICES[name].includes(value)) out[name] = value;
  }
  return { settings: out, hide };
}
function writeHash() {
  const s = app.settings, parts = [];
  for (const k of HASH_ORDER) {
    const v = s[k];
    if (v === null || v === undefined) continue;
    parts.push(`${k}=${Array.isArray(v) ? v.join(",") : v}`);
  }
  for (const k of Object.keys(app.hidden)) parts.push(`${k}_hide=${app.hidden[k]}`);
  history.replaceState(null, "", "#" + parts.join("&"));
}
function applyHidden() {
  for (const [name, hidden] of Object.entries(app.hidden)) {
    document.querySelectorAll(`.ui-${name}`).forEach((el) => { el.style.display = hidden ? "none" : ""; });
  }
}

// ---------- socket ----------
function send(message) { if (app.ws && app.ws.readyState === 1) app.ws.send(JSON.stringify(message)); }
function set(settings) {
  // Optimistic: a second click before the server's answer builds on the first (the server's state wins later).
  Object.assign(app.settings, settings);
  send({ cmd: "set", settings });
}
function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  app.ws = new WebSocket(`${proto}://${location.host}/ws`);
  app.ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    (HANDLERS[m.type] || (() => {}))(m);
  };
  app.ws.onclose = () => showMessage("The connection to the server closed; reload the page to start again.", true);
}
const HANDLERS = {
  state(m) {
    const first = app.state === null;
    app.state = m; app.settings = { ...m.settings };
    if (m.previews) app.previews = m.previews;
    if (first && app.pendingHash && Object.keys(app.pendingHash).length) { set(app.pendingHash); app.pendingHash = null; }
    syncControls(); writeHash(); drawDatasets();
    if (m.notes && m.notes.length) showMessage(m.notes.join("; "));
  },
  frame(m) {
    if (app.frame && m.epoch < app.frame.epoch) app.history = [];
    if (!app.frame || m.epoch !== app.frame.epoch || !app.history.length) app.history.push([m.epoch, m.train_loss, m.test_loss]);
    if (app.history.length > 600) app.history = app.history.filter((_, i) => i % 2 === 0);
    if (app.explain && m.epoch !== app.explain.epoch) { app.explain = null; $("explain-text").style.display = "none"; }
    app.frame = m;
    $("epoch").textContent = m.epoch.toLocaleString("en-US", { minimumIntegerDigits: 6 }).replace(/^(\d{3})(\d{3})$/, "$1,$2");
    $("train-loss").textContent = fixed(m.train_loss, 3);
    $("test-loss").textContent = fixed(m.test_loss, 3);
    $("play").classList.toggle("playing", m.playing);
    $("play").innerHTML = m.playing ? "&#x23F8;" : "&#x25B6;";
    drawMetrics(m.metrics); drawChart(); drawHeatmap(); drawNetwork();
  },
  error(m) { showMessage(m.message, true); if (app.state) app.settings = { ...app.state.settings }; },
  export(m) { download(m); },
  explain(m) {
    app.explain = { ...m, epoch: app.frame ? app.frame.epoch : 0 };
    const pre = $("explain-text"); pre.textContent = m.text; pre.style.display = "block";
    showMessage(`Backprop step on training point #${m.index} at (${m.point[0].toFixed(2)}, ${m.point[1].toFixed(2)}): error ${m.error.toFixed(4)}. Nodes show out / delta, links dE/dw.`);
    drawNetwork(); drawHeatmap();
  },
};
function showMessage(text, isError) { const el = $("message"); el.textContent = text; el.classList.toggle("error", !!isError); }
function download(m) {
  const blob = m.base64 ? new Blob([bytes(m.base64)], { type: "application/octet-stream" }) : new Blob([m.text], { type: "text/plain" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob); a.download = m.filename; document.body.appendChild(a); a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  showMessage(`Saved ${m.filename}`);
}

// ---------- controls ----------
function fillSelect(id, values, current) {
  const el = $(id); el.innerHTML = "";
  for (const v of values) { const o = document.createElement("option"); o.value = String(v); o.textContent = String(v); el.appendChild(o); }
  el.value = String(current);
}
function syncControls() {
  const s = app.settings, lim = app.state.limits;
  fillSelect("learning-rate", lim.learning_rates, s.learningRate);
  fillSelect("regularization-rate", lim.regularization_rates, s.regularizationRate);
  document.querySelectorAll("[data-setting]").forEach((el) => {
    const k = el.dataset.setting;
    if (el.type === "checkbox") el.checked = !!s[k]; else el.value = String(s[k]);
  });
  for (const k of ["percTrainData", "noise", "batchSize"]) $(`${k}-value`).textContent = s[k];
  const n = s.networkShape.length;
  $("layers-label").textContent = `${n} HIDDEN LAYER${n === 1 ? "" : "S"}`;
  const cls = $("click-class");
  const k = app.state.problem === "regression" ? 2 : Math.max(2, app.state.n_classes);
  cls.innerHTML = "";
  for (let c = 0; c < Math.max(k, 2); c++) {
    const o = document.createElement("option"); o.value = c;
    o.textContent = app.state.problem === "regression" ? (c ? "target +1" : "target -1") : (k > 2 ? `class ${c}` : (c ? "blue (1)" : "orange (0)"));
    cls.appendChild(o);
  }
  cls.value = "1";
  applyHidden();
}
function settingValue(el) {
  const k = el.dataset.setting;
  if (el.type === "checkbox") return el.checked;
  if (NUMBERS.has(k)) return Number(el.value);
  return el.value;
}
function wireControls() {
  document.querySelectorAll("[data-setting]").forEach((el) => {
    const ev = el.type === "range" ? "change" : "change";
    el.addEventListener(ev, () => {
      const k = el.dataset.setting, v = settingValue(el);
      app.settings[k] = v;
      if (k === "showTestData" || k === "discretize") drawHeatmap();
      set({ [k]: v });
    });
    if (el.type === "range") el.addEventListener("input", () => { $(`${el.dataset.setting}-value`).textContent = el.value; });
  });
  $("play").onclick = () => send({ cmd: app.frame && app.frame.playing ? "pause" : "play" });
  $("step").onclick = () => send({ cmd: "step" });
  $("reset").onclick = () => { app.history = []; send({ cmd: "reset" }); };
  $("regenerate").onclick = () => send({ cmd: "regenerate" });
  $("add-layer").onclick = () => changeShape((shape) => { if (shape.length < app.state.limits.layers) shape.push(2); });
  $("remove-layer").onclick = () => changeShape((shape) => { shape.pop(); });
  $("export-model").onclick = () => send({ cmd: "export", format: "model" });
  $("export-python").onclick = () => send({ cmd: "export", format: "python" });
  $("export-json").onclick = () => send({ cmd: "export", format: "json" });
  $("explain").onclick = () => send({ cmd: "explain", index: Math.max(0, parseInt($("explain-index").value || "0", 10)) });
  $("show-grads").onchange = drawNetwork;
  $("upload").onchange = (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    if (file.size > 1000000) { showMessage(`${file.name} is larger than the 1,000,000-byte limit`, true); return; }
    file.text().then((text) => send({ cmd: "upload", csv: text }));
    ev.target.value = "";
  };
  const heat = $("output-heatmap");
  heat.addEventListener("click", (ev) => {
    const r = heat.getBoundingClientRect();
    const x = -6 + 12 * (ev.clientX - r.left) / r.width, y = 6 - 12 * (ev.clientY - r.top) / r.height;
    if (ev.ctrlKey || ev.metaKey) { send({ cmd: "remove_point", x, y }); return; }
    let c = parseInt($("click-class").value, 10);
    const k = Math.max(2, app.state.n_classes);
    if (ev.shiftKey) c = k === 2 ? 1 - c : (c + 1) % k;
    const label = app.state.problem === "regression" ? (c ? 1 : -1) : c;
    send({ cmd: "add_point", x, y, label });
  });
  const net = $("network");
  net.addEventListener("mousemove", onNetworkHover);
  net.addEventListener("mouseleave", () => { if (!app.editing) $("hovercard").style.display = "none"; });
  net.addEventListener("click", onNetworkClick);
  $("hover-input").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      const v = parseFloat(ev.target.value), e = app.editing;
      if (e && isFinite(v)) send({ cmd: "edit", layer: e.layer, node: e.node, source: e.source, value: v });
      closeEditor();
    } else if (ev.key === "Escape") closeEditor();
  });
}
function changeShape(edit) {
  const shape = app.settings.networkShape.slice();
  edit(shape);
  const update = { networkShape: shape };
  if (app.settings.layerActivations) {
    const acts = app.settings.layerActivations.slice(0, shape.length);
    while (acts.length < shape.length) acts.push(app.settings.activation);
    update.layerActivations = acts;
  }
  set(update);
}

// ---------- data set thumbnails ----------
function drawDatasets() {
  const list = $("dataset-list"), st = app.state, s = app.settings;
  if (!app.previews) return;
  const names = st.problem === "regression" ? ["reg-plane", "reg-gauss"] : ["circle", "xor", "gauss", "spiral", "spiral3", "gauss3"];
  const current = st.problem === "regression" ? s.regDataset : s.dataset;
  if (list.dataset.names !== names.join()) {
    list.innerHTML = ""; list.dataset.names = names.join();
    for (const name of names) {
      const c = document.createElement("canvas");
      c.width = c.height = 56; c.title = DATASET_NAMES[name]; c.dataset.testid = `dataset-${name}`;
      c.setAttribute("data-testid", `dataset-${name}`);
      c.onclick = () => set(st.problem === "regression" ? { regDataset: name } : { dataset: name });
      list.appendChild(c);
      const g = c.getContext("2d"); g.fillStyle = "#f3f3f3"; g.fillRect(0, 0, 56, 56);
      for (const [x, y, label] of app.previews[name]) {
        const col = name.startsWith("reg") ? scale(label) : (name.endsWith("3") ? PALETTE[label] : (label ? BLUE : ORANGE));
        g.fillStyle = css(col); g.beginPath(); g.arc((x + 6) / 12 * 56, (6 - y) / 12 * 56, 1.6, 0, 7); g.fill();
      }
    }
  }
  list.querySelectorAll("canvas").forEach((c) => c.classList.toggle("selected", c.dataset.testid === `dataset-${current}`));
}

// ---------- output heat map, chart, metrics ----------
function drawHeatmap() {
  const f = app.frame, st = app.state;
  if (!f || !st) return;
  const canvas = $("output-heatmap"), g = canvas.getContext("2d");
  const off = document.createElement("canvas"); off.width = off.height = 100;
  const og = off.getContext("2d"), img = og.createImageData(100, 100);
  const out = bytes(f.output), classes = f.classes ? bytes(f.classes) : null, discrete = app.settings.discretize;
  const k = Math.max(2, st.n_classes);
  for (let i = 0; i < 10000; i++) {
    let c;
    if (classes) {
      const conf = (out[i] / 255 - 1 / k) / (1 - 1 / k);
      c = mix(GREY, PALETTE[classes[i] % PALETTE.length], discrete ? 0.8 : Math.max(0, Math.min(1, conf)) * 0.8);
    } else {
      let v = unit(out[i]);
      if (discrete) v = v >= 0 ? 1 : -1;
      c = mix(GREY, scale(v), 0.8);
    }
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
  }
  og.putImageData(img, 0, 0);
  g.imageSmoothingEnabled = true;
  g.drawImage(off, 0, 0, canvas.width, canvas.height);
  const px = (x) => (x + 6) / 12 * canvas.width, py = (y) => (6 - y) / 12 * canvas.height;
  const drawPoints = (rows, stroke) => {
    for (const [x, y, label] of rows) {
      g.beginPath(); g.arc(px(x), py(y), 3, 0, 2 * Math.PI);
      g.fillStyle = css(labelColour(label)); g.fill(); g.lineWidth = 1; g.strokeStyle = stroke; g.stroke();
    }
  };
  drawPoints(st.train, "#fff");
  if (app.settings.showTestData) drawPoints(st.test, "#000");
  if (app.explain) {
    const [x, y] = app.explain.point;
    g.beginPath(); g.arc(px(x), py(y), 7, 0, 2 * Math.PI); g.lineWidth = 2; g.strokeStyle = "#c0392b"; g.stroke();
  }
}
// A number for display; the server sends null for nan and inf (a diverged run) and omits what it lacks.
function fixed(v, digits) { return v === null || v === undefined ? "n/a" : v.toFixed(digits); }
function drawChart() {
  const c = $("chart"), g = c.getContext("2d"), h = app.history;
  g.clearRect(0, 0, c.width, c.height);
  if (h.length < 2) return;
  const x0 = h[0][0], x1 = h[h.length - 1][0] || 1;
  const ymax = Math.max(...h.flatMap((r) => [r[1], r[2]]).filter((v) => v !== null)) || 1;
  for (const [col, colour] of [[2, "#777"], [1, "#000"]]) {
    g.beginPath(); g.strokeStyle = colour; g.lineWidth = 1.5;
    let gap = true;  // a null loss (a diverged run) breaks the line
    h.forEach((r) => {
      if (r[col] === null) { gap = true; return; }
      const x = (r[0] - x0) / Math.max(1, x1 - x0) * (c.width - 2) + 1, y = c.height - 2 - r[col] / ymax * (c.height - 4);
      if (gap) g.moveTo(x, y); else g.lineTo(x, y);
      gap = false;
    });
    g.stroke();
  }
}
function drawMetrics(m) {
  const parts = [];
  if (m.test_accuracy !== undefined) parts.push(`accuracy: test ${fixed(100 * m.test_accuracy, 1)}%, train ${fixed(m.train_accuracy === undefined ? null : 100 * m.train_accuracy, 1)}%`);
  if (m.test_rmse !== undefined) parts.push(`RMSE: test ${fixed(m.test_rmse, 3)}, train ${fixed(m.train_rmse, 3)}`);
  if (app.frame) parts.push(`lr ${+app.frame.lr.toPrecision(3)}`);
  $("metric-line").textContent = parts.join(" · ");
  const box = $("confusion");
  if (!m.confusion) { box.innerHTML = ""; return; }
  let html = "<table><tr><th>true \\ pred</th>" + m.confusion.map((_, j) => `<th>${j}</th>`).join("") + "</tr>";
  m.confusion.forEach((row, i) => { html += `<tr><th>${i}</th>` + row.map((v) => `<td>${v}</td>`).join("") + "</tr>"; });
  box.innerHTML = html + "</table>";
}

// ---------- the network ----------
function layout() {
  const c = $("network"), f = app.frame, s = app.settings;
  const sizes = f.sizes, hidden = sizes.slice(1, -1), cols = hidden.length + 2;
  const left = 62, right = c.width - 40, top = 8, bottom = c.height - 8;
  const xs = []; for (let i = 0; i < cols; i++) xs.push(left + (right - left - 30) * i / (cols - 1));
  const nodes = [];
  const column = (count, x, size) => {
    const gap = Math.min(size * 1.6, (bottom - top) / count), start = top + ((bottom - top) - gap * count) / 2;
    const out = []; for (let j = 0; j < count; j++) out.push({ x, y: start + j * gap + (gap - size) / 2, s: size });
    return out;
  };
  const inputs = column(FEATURE_ORDER.length, xs[0], 30);
  inputs.forEach((n, j) => { n.feature = FEATURE_ORDER[j]; n.active = !!s[FEATURE_ORDER[j]]; });
  nodes.push(inputs);
  hidden.forEach((n, l) => nodes.push(column(n, xs[l + 1], Math.max(8, Math.min(30, Math.floor((bottom - top) / n / 1.25))))));
  nodes.push(column(sizes[sizes.length - 1], xs[cols - 1], 24));
  return { nodes, xs };
}
function thumb(g, node, values, offset) {
  const cell = node.s / 10;
  for (let r = 0; r < 10; r++) for (let q = 0; q < 10; q++) {
    g.fillStyle = css(scale(unit(values[offset + r * 10 + q])));
    g.fillRect(node.x + q * cell, node.y + r * cell, cell + 0.5, cell + 0.5);
  }
}
function outputThumb(g, node, f, j) {
  // The output map sampled every 10th cell; for several classes, that class's share of the map.
  const out = bytes(f.output), classes = f.classes ? bytes(f.classes) : null, cell = node.s / 10;
  for (let r = 0; r < 10; r++) for (let q = 0; q < 10; q++) {
    const i = (r * 10 + 5) * 100 + q * 10 + 5;
    g.fillStyle = css(classes ? (classes[i] === j ? PALETTE[j % PALETTE.length] : GREY) : scale(unit(out[i])));
    g.fillRect(node.x + q * cell, node.y + r * cell, cell + 0.5, cell + 0.5);
  }
}
function linkPath(a, b) {
  const x0 = a.x + a.s, y0 = a.y + a.s / 2, x1 = b.x, y1 = b.y + b.s / 2, mx = (x0 + x1) / 2;
  return [x0, y0, mx, y0, mx, y1, x1, y1];
}
function bez(p, t) {
  const u = 1 - t;
  return [u * u * u * p[0] + 3 * u * u * t * p[2] + 3 * u * t * t * p[4] + t * t * t * p[6],
          u * u * u * p[1] + 3 * u * u * t * p[3] + 3 * u * t * t * p[5] + t * t * t * p[7]];
}
function drawNetwork() {
  const f = app.frame, st = app.state;
  if (!f || !st) return;
  const c = $("network"), g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  const { nodes, xs } = layout();
  const active = nodes[0].filter((n) => n.active);
  const showGrads = $("show-grads").checked, ex = app.explain;
  app.links = []; app.biases = [];
  const layers = [active, ...nodes.slice(1)];
  for (let l = 0; l + 1 < layers.length; l++) {
    const W = floats(f.weights[l]), G = floats(f.grads[l]), src = layers[l], dst = layers[l + 1];
    const gmax = Math.max(1e-12, ...G);
    const density = Math.min(1, 30 / Math.max(src.length, dst.length) * 0.5 + 0.2);
    for (let j = 0; j < dst.length; j++) for (let i = 0; i < src.length; i++) {
      const w = W[j * src.length + i], p = linkPath(src[i], dst[j]);
      let colour, width;
      if (ex) { const d = ex.layers[l].weight_grads[j][i]; colour = scale(-Math.sign(d) * Math.min(1, Math.abs(d) * 20)); width = 1 + 6 * Math.min(1, Math.abs(d) * 20); }
      else if (showGrads) { const m = G[j * src.length + i] / gmax; colour = [142, 68, 173]; width = 0.5 + 7 * m; g.globalAlpha = 0.25 + 0.75 * m; }
      else { colour = scale(w); width = 1 + 9 * Math.min(Math.abs(w), 5) / 5; }
      g.beginPath(); g.moveTo(p[0], p[1]); g.bezierCurveTo(p[2], p[3], p[4], p[5], p[6], p[7]);
      g.strokeStyle = css(colour); g.lineWidth = width * density; g.stroke(); g.globalAlpha = 1;
      const samples = []; for (let t = 0; t <= 1.0001; t += 0.1) samples.push(bez(p, t));
      app.links.push({ layer: l, node: j, source: i, value: w, grad: G[j * src.length + i], samples });
    }
  }
  // inputs
  const maps = st.input_maps;
  nodes[0].forEach((n) => {
    g.globalAlpha = n.active ? 1 : 0.3;
    thumb(g, n, bytes(maps[n.feature]), 0);
    g.globalAlpha = 1;
    g.strokeStyle = n.active ? "#183d4e" : "#bbb"; g.lineWidth = n.active ? 2 : 1; g.strokeRect(n.x, n.y, n.s, n.s);
    g.fillStyle = n.active ? "#333" : "#aaa"; g.font = "12px Helvetica, Arial"; g.textAlign = "right";
    g.fillText(st.feature_labels[n.feature], n.x - 6, n.y + n.s / 2 + 4);
  });
  // hidden and output
  for (let l = 1; l < nodes.length; l++) {
    const isOut = l === nodes.length - 1, B = floats(f.biases[l - 1]);
    const values = isOut ? null : bytes(f.neurons[l - 1]);
    nodes[l].forEach((n, j) => {
      if (values) thumb(g, n, values, j * 100); else outputThumb(g, n, f, j);
      g.strokeStyle = "#555"; g.lineWidth = 1; g.strokeRect(n.x, n.y, n.s, n.s);
      const bs = Math.max(3, n.s / 6);
      g.fillStyle = css(scale(B[j])); g.fillRect(n.x - bs - 1, n.y + n.s - bs, bs, bs);
      g.strokeStyle = "#777"; g.strokeRect(n.x - bs - 1, n.y + n.s - bs, bs, bs);
      app.biases.push({ layer: l - 1, node: j, value: B[j], x: n.x - bs - 1, y: n.y + n.s - bs, s: bs });
      if (ex) {
        const L = ex.layers[l - 1];
        g.fillStyle = "#c0392b"; g.font = "9px Helvetica, Arial"; g.textAlign = "left";
        g.fillText(`${L.out[j].toFixed(3)} / δ ${L.delta[j].toExponential(1)}`, n.x + n.s + 2, n.y + 8);
      }
      if (isOut && !ex) { g.fillStyle = "#555"; g.font = "11px Helvetica, Arial"; g.textAlign = "left"; g.fillText(f.sizes[f.sizes.length - 1] > 1 ? `class ${j}` : "output", n.x + n.s + 4, n.y + n.s / 2 + 4); }
    });
  }
  app.layout = nodes;
  drawLayerButtons(xs);
}
function drawLayerButtons(xs) {
  const box = $("layer-buttons"), s = app.settings, shape = s.networkShape;
  const key = JSON.stringify([shape, s.layerActivations, s.activation, xs.map(Math.round)]);
  if (box.dataset.key === key) return;
  box.dataset.key = key; box.innerHTML = "";
  shape.forEach((n, l) => {
    const div = document.createElement("div"); div.className = "layer-ctl"; div.style.left = `${xs[l + 1] + 15}px`;
    div.innerHTML = `<div class="row"><button data-testid="add-neuron-${l}" title="Add a neuron">+</button><button data-testid="remove-neuron-${l}" title="Remove a neuron">&minus;</button></div><span>${shape.length > 5 ? n : `${n} neuron${n === 1 ? "" : "s"}`}</span>`;
    const [plus, minus] = div.querySelectorAll("button");
    plus.onclick = () => changeShape((sh) => { if (sh[l] < app.state.limits.neurons) sh[l] += 1; });
    minus.onclick = () => changeShape((sh) => { if (sh[l] > 1) sh[l] -= 1; });
    const sel = document.createElement("select"); sel.setAttribute("data-testid", `layer-activation-${l}`);
    for (const a of CHOICES.activation) { const o = document.createElement("option"); o.value = a; o.textContent = a; sel.appendChild(o); }
    sel.value = (s.layerActivations && s.layerActivations[l]) || s.activation;
    sel.onchange = () => {
      const acts = shape.map((_, i) => (s.layerActivations && s.layerActivations[i]) || s.activation);
      acts[l] = sel.value; set({ layerActivations: acts });
    };
    div.appendChild(sel); box.appendChild(div);
  });
}
function hitTest(ev) {
  const c = $("network"), r = c.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
  for (const b of app.biases) if (x >= b.x - 2 && x <= b.x + b.s + 2 && y >= b.y - 2 && y <= b.y + b.s + 2) return { kind: "bias", ...b, x, y };
  if (app.layout) for (const n of app.layout[0]) if (x >= n.x && x <= n.x + n.s && y >= n.y && y <= n.y + n.s) return { kind: "input", feature: n.feature, x, y };
  let best = null, bestD = 25;
  for (const link of app.links) for (const [px, py] of link.samples) {
    const d = (px - x) * (px - x) + (py - y) * (py - y);
    if (d < bestD) { bestD = d; best = link; }
  }
  return best ? { kind: "weight", ...best, x, y } : null;
}
function onNetworkHover(ev) {
  if (app.editing) return;
  const hit = hitTest(ev), card = $("hovercard");
  if (!hit || hit.kind === "input") { card.style.display = "none"; $("network").style.cursor = hit ? "pointer" : "default"; return; }
  $("network").style.cursor = "pointer";
  let text = `${hit.kind === "bias" ? "Bias" : "Weight"} is ${hit.value.toFixed(3)}`;
  if (hit.kind === "weight" && $("show-grads").checked) text += `, |dE/dw| ${hit.grad.toExponential(2)}`;
  if (hit.kind === "weight" && app.explain) text += `, dE/dw ${app.explain.layers[hit.layer].weight_grads[hit.node][hit.source].toExponential(3)}`;
  $("hover-text").textContent = text;
  card.style.left = `${hit.x + 12}px`; card.style.top = `${hit.y + 52 + 12}px`; card.style.display = "block";
}
function onNetworkClick(ev) {
  const hit = hitTest(ev);
  if (!hit) { closeEditor(); return; }
  if (hit.kind === "input") { set({ [hit.feature]: !app.settings[hit.feature] }); return; }
  app.editing = { layer: hit.layer, node: hit.node, source: hit.kind === "bias" ? null : hit.source };
  const input = $("hover-input");
  $("hover-text").textContent = hit.kind === "bias" ? "Bias" : "Weight";
  input.value = hit.value.toFixed(3); input.style.display = "inline-block";
  const card = $("hovercard"); card.style.left = `${hit.x + 12}px`; card.style.top = `${hit.y + 64}px`; card.style.display = "block";
  input.focus(); input.select();
}
function closeEditor() { app.editing = null; $("hover-input").style.display = "none"; $("hovercard").style.display = "none"; }

function drawColormap() {
  const c = $("colormap"), g = c.getContext("2d");
  for (let i = 0; i < c.width; i++) { g.fillStyle = css(scale(2 * i / (c.width - 1) - 1)); g.fillRect(i, 0, 1, c.height); }
}

window.addEventListener("load", () => {
  const parsed = parseHash();
  app.hidden = parsed.hide; app.pendingHash = parsed.settings;
  wireControls(); drawColormap(); connect();
});
