// cnncalc report: lays out and draws the layer graph the page carries as JSON, with its figures.
// Everything from the spec is set as text (textContent), never parsed as HTML.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const NODE = {width: 210, height: 46, gap: 24, rank: 74, dummy: 8, margin: 24};
  const COLOURS = {input: "#e6e6e6", conv: "#a8d1ff", pool: "#c6f0c2", norm: "#ffe7a3", activation: "#ffc9b8",
                   linear: "#d9c2ff", join: "#b8f0ec", shape: "#f0f0f0", dropout: "#f5d0e6", block: "#dfe6ee",
                   attention: "#ffd6f0", parameter: "#fff3c4"};
  const OPENING = 200;  // a graph with more layers opens with blocks collapsed
  const FIGURES = {params: "parameters", macs: "MACs", activation_bytes: "activation memory"};
  const layers = DATA.layers, blocks = DATA.blocks;
  const levels = blocks.reduce((most, b) => Math.max(most, b.level), 0);
  const state = {collapsed: new Set(), selected: null, zoom: 1, shade: "macs", matches: [], match: -1, view: null};
  const $ = (id) => document.getElementById(id);

  // ---- numbers ----------------------------------------------------------------------------------
  // a figure past 2^53 comes as a string of its digits (output/page.py: exact): counted as a BigInt
  const count = (n) => BigInt(n).toLocaleString("en-US");
  function human(n, unit) {  // as cnncalc's tables write it (output/units.py): 1.5 M, 2.0 MB
    for (const [factor, prefix] of DATA.prefixes) {
      if (Math.abs(n) >= factor) return (n / factor).toFixed(1) + " " + prefix + (unit || "");
    }
    return unit ? n + " " + unit : String(n);
  }
  const shape = (dims) => dims.join("×");

  // ---- elements ---------------------------------------------------------------------------------
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function table(rows) {  // rows: [label, value, extra?]; values are text, numbers right-aligned
    const body = el("table");
    for (const [label, value, extra, cls] of rows) {
      const tr = el("tr", cls ? {class: cls} : {});
      tr.append(el("td", {}, label), el("td", {class: "num"}, value));
      if (extra !== undefined) tr.append(el("td", {class: "muted"}, extra));
      body.append(tr);
    }
    return body;
  }

  // ---- what is visible: a layer, or the outermost collapsed block around it --------------------
  function visibleItems() {
    const items = [], byKey = new Map(), owner = [];
    layers.forEach((layer, i) => {
      const outer = layer.blocks.find((b) => state.collapsed.has(b));
      const key = outer === undefined ? "L" + i : "B" + outer;
      owner.push(key);
      let item = byKey.get(key);
      if (!item) {
        item = outer === undefined ? {key, row: layer, layer: i, block: null}
                                   : {key, row: blocks[outer], layer: null, block: outer, last: i};
        byKey.set(key, item);
        items.push(item);
      }
      if (item.block !== null) item.last = i;
    });
    const edges = new Map();
    layers.forEach((layer, i) => layer.inputs.forEach((k) => {
      const from = owner[k], to = owner[i];
      if (from === to) return;
      const edge = edges.get(from + ">" + to) || {from, to, shapes: new Set()};
      edge.shapes.add(shape(layers[k].shape));
      edges.set(from + ">" + to, edge);
    }));
    return {items, byKey, edges: [...edges.values()]};
  }

  // ---- layered layout (Sugiyama): ranks by longest path, dummies on long edges, barycentre
  // ordering, then positions pulled toward the mean of neighbours without overlapping ----------
  function layout(view) {
    const nodes = view.items.map((item) => ({item, key: item.key, preds: [], succs: [], width: NODE.width}));
    const byKey = new Map(nodes.map((n) => [n.key, n]));
    for (const edge of view.edges) {
      byKey.get(edge.from).succs.push(byKey.get(edge.to));
      byKey.get(edge.to).preds.push(byKey.get(edge.from));
    }
    for (const node of topological(nodes)) {
      node.rank = node.preds.reduce((r, p) => Math.max(r, p.rank === undefined ? 0 : p.rank + 1), 0);
    }
    const all = nodes.slice(), paths = [];
    for (const edge of view.edges) {  // a long edge passes through one dummy per rank it crosses
      const from = byKey.get(edge.from), to = byKey.get(edge.to), chain = [from];
      for (let r = from.rank + 1; r < to.rank; r++) {
        const dummy = {dummy: true, rank: r, preds: [chain[chain.length - 1]], succs: [], width: NODE.dummy};
        chain[chain.length - 1].succs.push(dummy);
        chain.push(dummy);
        all.push(dummy);
      }
      chain.push(to);
      if (chain.length > 2) {
        chain[chain.length - 2].succs.push(to);
        to.preds.push(chain[chain.length - 2]);
      }
      paths.push({edge, chain});
    }
    const ranks = [];
    for (const node of all) (ranks[node.rank] = ranks[node.rank] || []).push(node);
    order(ranks);
    place(ranks);
    const left = Math.min(...all.map((n) => n.x)) - NODE.margin;
    for (const node of all) {
      node.x -= left;
      node.y = NODE.margin + node.rank * NODE.rank;
    }
    return {nodes, byKey, paths, width: Math.max(...all.map((n) => n.x + n.width)) + NODE.margin,
            height: NODE.margin * 2 + ranks.length * NODE.rank - (NODE.rank - NODE.height)};
  }

  function topological(nodes) {  // Kahn's order, spec order among the ready; a cycle is cut
    const waiting = new Map(nodes.map((n) => [n, n.preds.length])), done = [], ready = nodes.filter((n) => !n.preds.length);
    const seen = new Set();
    while (done.length < nodes.length) {
      const node = ready.length ? ready.shift() : nodes.find((n) => !seen.has(n));
      if (seen.has(node)) continue;
      seen.add(node);
      done.push(node);
      for (const s of node.succs) {
        waiting.set(s, waiting.get(s) - 1);
        if (waiting.get(s) === 0 && !seen.has(s)) ready.push(s);
      }
    }
    return done;
  }

  function order(ranks) {
    ranks.forEach((rank) => rank.forEach((node, i) => { node.order = i; }));
    const mean = (list, fallback) => list.length ? list.reduce((s, n) => s + n.order, 0) / list.length : fallback;
    for (let sweep = 0; sweep < 8; sweep++) {
      const down = sweep % 2 === 0;
      const sequence = down ? ranks.slice(1) : ranks.slice(0, -1).reverse();
      for (const rank of sequence) {
        for (const node of rank) node.barycentre = mean(down ? node.preds : node.succs, node.order);
        rank.sort((a, b) => a.barycentre - b.barycentre || a.order - b.order);
        rank.forEach((node, i) => { node.order = i; });
      }
    }
  }

  function place(ranks) {
    for (const rank of ranks) {
      let x = 0;
      for (const node of rank) { node.x = x; x += node.width + NODE.gap; }
    }
    const centre = (n) => n.x + n.width / 2;
    for (let sweep = 0; sweep < 10; sweep++) {
      const down = sweep % 2 === 0;
      for (const rank of down ? ranks : ranks.slice().reverse()) {
        const wanted = rank.map((n) => {
          const near = down ? n.preds : n.succs;
          return near.length ? near.reduce((s, m) => s + centre(m), 0) / near.length - n.width / 2 : n.x;
        });
        separate(rank, wanted);
      }
    }
  }

  function separate(rank, wanted) {  // nearest positions to `wanted` that keep the order and the gaps
    const fromLeft = [], fromRight = [];
    rank.forEach((n, i) => {
      fromLeft[i] = i ? Math.max(wanted[i], fromLeft[i - 1] + rank[i - 1].width + NODE.gap) : wanted[i];
    });
    for (let i = rank.length - 1; i >= 0; i--) {
      fromRight[i] = i < rank.length - 1 ? Math.min(wanted[i], fromRight[i + 1] - rank[i].width - NODE.gap) : wanted[i];
    }
    rank.forEach((n, i) => {
      const mid = (fromLeft[i] + fromRight[i]) / 2;
      n.x = i ? Math.max(mid, rank[i - 1].x + rank[i - 1].width + NODE.gap) : mid;
    });
  }

  // ---- drawing ----------------------------------------------------------------------------------
  function draw() {
    const view = visibleItems();
    const placed = layout(view);
    state.view = view;
    state.placed = placed;
    const graph = $("graph");
    graph.replaceChildren();
    graph.setAttribute("viewBox", `0 0 ${placed.width} ${placed.height}`);
    graph.dataset.width = placed.width;
    graph.dataset.height = placed.height;
    applyZoom();
    const edgeLayer = svg("g", {class: "edges"}), nodeLayer = svg("g", {class: "nodes"});
    for (const {edge, chain} of placed.paths) edgeLayer.append(drawEdge(edge, chain));
    const top = Math.max(1, ...view.items.map((item) => state.shade ? item.row[state.shade] : 0));
    for (const node of placed.nodes) nodeLayer.append(drawNode(node, top));
    graph.append(edgeLayer, nodeLayer);
    $("node-count").textContent = `${view.items.length} nodes drawn of ${layers.length} layers`;
    drawBars(view);
    markMatches();
    showDetails();
  }

  function drawNode(node, top) {
    const {item} = node, row = item.row;
    const g = svg("g", {class: "node" + (item.block !== null ? " block" : "") + (item.key === state.selected ? " selected" : ""),
                        transform: `translate(${node.x},${node.y})`, "data-key": item.key, "data-name": row.name});
    g.append(svg("title", {}, row.name));
    g.append(svg("rect", {class: "box", width: NODE.width, height: NODE.height, rx: 5,
                          fill: COLOURS[row.family] || "#eeeeee"}));
    if (state.shade && row[state.shade] > 0) {
      const width = Math.max(2, (NODE.width - 2) * row[state.shade] / top);
      g.append(svg("rect", {class: "shade", x: 1, y: NODE.height - 6, width, height: 5}));
    }
    g.append(svg("text", {class: "name", x: 8, y: 17}, clip(row.name, 30)));
    const under = item.block !== null ? `${row.kind} block` : row.kind;
    g.append(svg("text", {x: 8, y: 33}, clip(`${under} · ${shape(row.shape)}`, 32)));
    if (item.block !== null) {
      const toggle = svg("text", {class: "toggle", x: NODE.width - 16, y: 18}, "+");
      toggle.addEventListener("click", (event) => { event.stopPropagation(); expand(item.block); });
      g.append(toggle);
    }
    g.addEventListener("click", () => select(item.key));
    return g;
  }

  function drawEdge(edge, chain) {
    const points = chain.map((n, i) => [n.x + n.width / 2, i === 0 ? n.y + (n.dummy ? 0 : NODE.height) : n.y]);
    let d = `M${points[0][0]},${points[0][1]}`;
    for (let i = 1; i < points.length; i++) {
      const [x0, y0] = points[i - 1], [x1, y1] = points[i], bend = (y1 - y0) / 2;
      d += ` C${x0},${y0 + bend} ${x1},${y1 - bend} ${x1},${y1}`;
    }
    const g = svg("g", {class: "edge-group"});
    const hit = svg("path", {class: "edge-hit", d}), line = svg("path", {class: "edge", d});
    const text = [...edge.shapes].join(", ");
    hit.addEventListener("mousemove", (event) => tooltip(event, text));
    hit.addEventListener("mouseleave", () => tooltip(null));
    g.append(hit, line);
    return g;
  }

  function clip(text, most) {
    return text.length <= most ? text : "…" + text.slice(text.length - most + 1);
  }

  function tooltip(event, text) {
    const tip = $("tooltip");
    if (!event) { tip.hidden = true; return; }
    tip.textContent = text;
    tip.style.left = event.clientX + 12 + "px";
    tip.style.top = event.clientY + 12 + "px";
    tip.hidden = false;
  }

  function applyZoom() {
    const graph = $("graph");
    graph.setAttribute("width", Number(graph.dataset.width) * state.zoom);
    graph.setAttribute("height", Number(graph.dataset.height) * state.zoom);
  }

  // ---- selection and details --------------------------------------------------------------------
  function select(key, scroll) {
    state.selected = key;
    document.querySelectorAll(".node.selected").forEach((n) => n.classList.remove("selected"));
    const node = document.querySelector(`.node[data-key="${key}"]`);
    if (node) {
      node.classList.add("selected");
      if (scroll) node.scrollIntoView({block: "center", inline: "center"});
    }
    document.querySelectorAll(".bar-chart rect").forEach((bar) => bar.classList.toggle("selected", bar.dataset.key === key));
    showDetails();
  }

  function showDetails() {
    const panel = $("details");
    const item = state.view && state.view.byKey.get(state.selected);
    if (!item) {
      panel.replaceChildren(el("h2", {}, "Layer"), el("p", {class: "hint"}, "Click a layer to see its figures."));
      return;
    }
    const row = item.row;
    panel.replaceChildren(el("h2", {}, item.block !== null ? "Block" : "Layer"), el("h3", {id: "selected-name"}, row.name));
    panel.append(crumbs(item));
    const inputs = item.layer !== null ? row.inputs.map((k) => layers[k].name).join(", ") : "";
    const facts = [["kind", row.kind], ["output", shape(row.shape) + " per sample"]];
    if (inputs) facts.push(["inputs", inputs]);
    if (DATA.amp && item.layer !== null) facts.push(["runs in", row.dtype + " (autocast)"]);
    panel.append(table(facts));
    panel.append(el("h4", {}, "Figures"), table([
      ["parameters", count(row.params), `weights ${count(row.weights)}, biases ${count(row.biases)}`],
      ["trainable", count(row.trainable_params)], ["buffers", count(row.buffers)],
      ["activations", count(row.activations), human(row.activation_bytes, "B") + (row.allocates ? "" : " (shared)")],
      ["MACs", count(row.macs), human(row.macs)], ["FLOPs", count(row.flops), human(row.flops)]]));
    if (item.block !== null) {
      const button = el("button", {}, "Expand this block");
      button.addEventListener("click", () => expand(item.block));
      panel.append(button);
    }
    if (row.explain && row.explain.length) {
      panel.append(el("h4", {}, "Arithmetic"), el("pre", {class: "explain"}, row.explain.join("\n")));
    }
    panel.append(el("h4", {}, "Under each convention"), table(DATA.conventions.map((c, i) => [c.name, count(row.ops[i])])));
    fieldSection(panel, item);
    specLink(panel, row.line);
  }

  function crumbs(item) {  // the blocks around it, outermost first: each collapses on a click
    const around = item.layer !== null ? layers[item.layer].blocks : ancestors(item.block);
    const line = el("p", {class: "crumbs"});
    if (!around.length) return line;
    line.append(el("span", {class: "muted"}, "in "));
    around.forEach((b, i) => {
      const button = el("button", {title: "Collapse this block"}, blocks[b].name);
      button.addEventListener("click", () => collapse(b));
      if (i) line.append(" › ");
      line.append(button);
    });
    return line;
  }

  function ancestors(b) {
    const chain = [];
    for (let p = blocks[b].parent; p !== null; p = blocks[p].parent) chain.unshift(p);
    return chain;
  }

  function fieldSection(panel, item) {
    const row = item.block !== null ? layers[item.last] : item.row;  // a block's field is its last layer's
    const rf = row.rf;
    if (!rf) return;
    const note = rf.whole ? " (every unit sees the whole input)" : "";
    panel.append(el("h4", {}, "Receptive field"), table([
      ["size", rf.size.join("×") + note], ["stride", rf.stride.join("×")], ["padding", rf.padding.join("×")]]));
    const input = DATA.input_shape.slice(1);
    if (!rf.centre || !input.length || rf.global) return;
    const middle = row.shape.slice(1).map((s) => Math.floor(s / 2));
    panel.append(el("p", {class: "muted"}, `What unit (${middle.join(", ")}) sees of the ${shape(input)} input` +
                     (rf.centre.every((s) => s) ? ": " + rf.centre.map((s) => `${s[0]}…${s[1]}`).join(" × ") : ": nothing")));
    panel.append(fieldPicture(input, rf.centre));
  }

  function fieldPicture(input, spans) {  // the input extent, and the field of one unit over it
    const [h, w] = input.length > 1 ? input.slice(-2) : [1, input[0]];
    const [sy, sx] = input.length > 1 ? spans.slice(-2) : [[0, 0], spans[0]];
    const x0 = Math.min(0, sx ? sx[0] : 0), y0 = Math.min(0, sy ? sy[0] : 0);
    const x1 = Math.max(w - 1, sx ? sx[1] : 0), y1 = Math.max(h - 1, sy ? sy[1] : 0);
    const picture = svg("svg", {id: "rf-picture", viewBox: `${x0 - 1} ${y0 - 1} ${x1 - x0 + 3} ${y1 - y0 + 3}`,
                                preserveAspectRatio: "xMidYMid meet"});
    picture.append(svg("rect", {x: 0, y: 0, width: w, height: h, fill: "#eaeef2", stroke: "#57606a",
                                "vector-effect": "non-scaling-stroke"}));
    if (sx && sy) {
      picture.append(svg("rect", {class: "field", x: sx[0], y: sy[0], width: sx[1] - sx[0] + 1, height: sy[1] - sy[0] + 1,
                                  fill: "rgba(9,105,218,.25)", stroke: "#0969da", "vector-effect": "non-scaling-stroke"}));
    }
    return picture;
  }

  function specLink(panel, line) {
    if (!line) return;
    const where = `${DATA.source}:${line}`;
    if (DATA.source_text === null) {
      panel.append(el("p", {class: "muted"}, "defined at " + where));
      return;
    }
    const link = el("button", {class: "link", id: "spec-link"}, where);
    link.addEventListener("click", () => showSource(line));
    const p = el("p", {}, "defined at ");
    p.append(link);
    panel.append(p);
  }

  function showSource(line) {
    const lines = $("source-lines");
    if (!lines.childElementCount) {
      DATA.source_text.split("\n").forEach((text, i) => lines.append(el("div", {"data-n": i + 1}, text || " ")));
    }
    lines.querySelectorAll(".target").forEach((n) => n.classList.remove("target"));
    const target = lines.children[line - 1];
    $("source-name").textContent = DATA.source;
    $("source").hidden = false;
    if (target) {
      target.classList.add("target");
      target.scrollIntoView({block: "center"});
    }
  }

  // ---- collapsing -------------------------------------------------------------------------------
  function setDepth(value) {
    state.collapsed = new Set();
    if (value !== "all") blocks.forEach((b, i) => { if (b.level >= Number(value)) state.collapsed.add(i); });
    draw();
  }

  function expand(b) {
    state.collapsed.delete(b);
    blocks.forEach((other, i) => { if (other.parent === b) state.collapsed.add(i); });
    if (state.selected === "B" + b) state.selected = null;
    $("depth").value = "custom";
    draw();
  }

  function collapse(b) {
    state.collapsed.add(b);
    state.selected = "B" + b;
    $("depth").value = "custom";
    draw();
  }

  function reveal(key) {  // open every collapsed block around a layer so it is drawn
    if (key[0] === "L") layers[Number(key.slice(1))].blocks.forEach((b) => state.collapsed.delete(b));
    else ancestors(Number(key.slice(1))).forEach((b) => state.collapsed.delete(b));
    $("depth").value = "custom";
  }

  // ---- search -----------------------------------------------------------------------------------
  function search(text) {
    const query = text.trim().toLowerCase();
    state.matches = !query ? [] : [
      ...blocks.map((b, i) => ["B" + i, b.name]), ...layers.map((l, i) => ["L" + i, l.name])]
      .filter(([, name]) => name.toLowerCase().includes(query)).map(([key]) => key);
    state.match = -1;
    markMatches();
  }

  function markMatches() {
    const wanted = new Set(state.matches);
    document.querySelectorAll(".node").forEach((n) => n.classList.toggle("match", wanted.has(n.dataset.key)));
    $("matches").textContent = $("search").value.trim() ? `${state.matches.length} found` : "";
  }

  function nextMatch() {
    if (!state.matches.length) return;
    state.match = (state.match + 1) % state.matches.length;
    const key = state.matches[state.match];
    if (!state.view.byKey.has(key)) { reveal(key); draw(); }
    select(key, true);
    $("matches").textContent = `${state.match + 1} of ${state.matches.length}`;
  }

  // ---- side panels ------------------------------------------------------------------------------
  function drawBars(view) {  // the bars of `cnncalc plot`, one per drawn node, in graph order
    const panel = $("bars");
    panel.replaceChildren(el("h2", {}, "Per layer"));
    for (const [key, label] of Object.entries(FIGURES)) {
      const values = view.items.map((item) => item.row[key]);
      const top = Math.max(1, ...values), chart = el("div", {class: "bar-chart"});
      chart.append(el("div", {}, `${label} (largest ${key === "activation_bytes" ? human(top, "B") : human(top)})`));
      const picture = svg("svg", {viewBox: `0 0 ${values.length} 100`, preserveAspectRatio: "none"});
      view.items.forEach((item, i) => {
        const height = 100 * values[i] / top;
        const bar = svg("rect", {x: i + 0.1, y: 100 - height, width: 0.8, height, "data-key": item.key,
                                 class: item.key === state.selected ? "selected" : ""});
        bar.append(svg("title", {}, `${item.row.name}: ${count(values[i])}`));
        bar.addEventListener("click", () => select(item.key, true));
        picture.append(bar);
      });
      chart.append(picture);
      panel.append(chart);
    }
  }

  function showTotals() {
    const t = DATA.totals, m = DATA.memory;
    const rows = [
      ["parameters", count(t.params), human(t.param_bytes, "B")], ["trainable", count(t.trainable_params)],
      ["buffers", count(t.buffers)], ["activations", count(t.activations), human(t.activation_bytes, "B")],
      ["MACs", count(t.macs), human(t.macs)], ["FLOPs", count(t.flops), human(t.flops)],
      ["peak inference memory", count(m.peak_inference_bytes) + " B", human(m.peak_inference_bytes, "B")],
      [`training memory (${m.optimizer})`, count(m.training_bytes) + " B", human(m.training_bytes, "B")]];
    if (m.amp) rows.push(["autocast", m.amp, "activations in the dtype each layer runs in; parameters, " +
                          "gradients and optimizer state float32"]);
    if (m.checkpoint.length) {
      rows.push(["checkpointed", String(m.checkpoint.length), m.checkpoint.slice(0, 6).join(", ") +
                 (m.checkpoint.length > 6 ? ", …" : "") + ": their activations recomputed in backward"]);
    }
    if (DATA.not_run.length) {
      const held = DATA.not_run.reduce((s, n) => s + BigInt(n.params), 0n);
      rows.push(["held apart", String(DATA.not_run.length), `${count(held)} parameters, in the totals`]);
    }
    if (t.uncounted.length) {
      rows.push(["not counted", String(t.uncounted.length),
                 `${t.uncounted.slice(0, 3).join(", ")}${t.uncounted.length > 3 ? ", …" : ""}: ` +
                 "MACs, FLOPs and memory are lower bounds"]);
    }
    $("totals").append(table(rows));
    $("conventions").append(table(DATA.conventions.map((c) => [c.name, count(c.ops), c.description,
                                                                 c.name === t.convention ? "current" : ""])));
  }

  function showLegend() {
    const families = [...new Set([...layers.map((l) => l.family), ...(blocks.length ? ["block"] : [])])];
    for (const family of families) {
      const item = el("span", {class: "legend-item"});
      const swatch = el("span", {class: "swatch"});
      swatch.style.background = COLOURS[family] || "#eeeeee";
      item.append(swatch, family);
      $("legend").append(item);
    }
  }

  function openingDepth() {  // all layers, or the deepest depth that draws at most OPENING nodes
    if (layers.length <= OPENING) return "all";
    for (let d = levels; d > 1; d--) {
      state.collapsed = new Set(blocks.flatMap((b, i) => b.level >= d ? [i] : []));
      if (visibleItems().items.length <= OPENING) return String(d);
    }
    return levels ? "1" : "all";
  }

  // ---- start ------------------------------------------------------------------------------------
  function start() {
    $("title").textContent = DATA.model;
    const autocast = DATA.amp ? ` (autocast ${DATA.amp})` : "";
    $("subtitle").textContent = `input ${shape(DATA.input_shape)}, batch ${DATA.batch}, ${DATA.dtype}${autocast} · ` +
      `${count(DATA.totals.params)} parameters · ${human(DATA.totals.macs, "MACs")}`;
    const depth = $("depth");
    depth.append(el("option", {value: "all"}, "all layers"));
    for (let d = 1; d <= levels; d++) depth.append(el("option", {value: String(d)}, String(d)));
    depth.append(el("option", {value: "custom", disabled: ""}, "custom"));
    depth.addEventListener("change", () => setDepth(depth.value));
    $("shade").addEventListener("change", (e) => { state.shade = e.target.value; draw(); });
    $("search").addEventListener("input", (e) => search(e.target.value));
    $("search").addEventListener("keydown", (e) => { if (e.key === "Enter") nextMatch(); });
    $("zoom-in").addEventListener("click", () => { state.zoom *= 1.25; applyZoom(); });
    $("zoom-out").addEventListener("click", () => { state.zoom /= 1.25; applyZoom(); });
    $("zoom-fit").addEventListener("click", () => {
      state.zoom = Math.min(1, $("graph-pane").clientWidth / Number($("graph").dataset.width));
      applyZoom();
    });
    $("source-close").addEventListener("click", () => { $("source").hidden = true; });
    showTotals();
    showLegend();
    depth.value = openingDepth();
    setDepth(depth.value);
    const input = state.placed.byKey.get("L0");  // the input, at the top, in view
    $("graph-pane").scrollLeft = (input.x + NODE.width / 2) * state.zoom - $("graph-pane").clientWidth / 2;
    document.documentElement.dataset.renderMs = Math.round(performance.now());
  }
  start();
})();
