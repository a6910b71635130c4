/*
 * The Driftline dashboard page: a small single-page app over the JSON API. Charts are uPlot
 * (served by the dashboard from node_modules). Routes live in the hash: #/ (overview) and
 * #/model/<name>; the time range (?range=1h|6h|24h|7d) is part of it, and every panel follows it.
 * Live: one EventSource on /api/events; a change re-reads the panels of the current view.
 */
(() => {
  const RANGES = ['1h', '6h', '24h', '7d'];
  const COLORS = { ref: '#2e90fa', cur: '#f79009', drift: '#f04438', ok: '#12b76a', grey: '#98a2b3', ink: '#344054' };
  const view = document.getElementById('view');
  const charts = [];
  let csrf = null;
  let rendering = Promise.resolve();

  // ---- routing and formatting ----------------------------------------------------------------

  function route() {
    const [path, query] = location.hash.replace(/^#/, '').split('?');
    const params = new URLSearchParams(query || '');
    const range = RANGES.includes(params.get('range')) ? params.get('range') : '6h';
    const m = /^\/model\/([^/]+)$/.exec(path || '/');
    return { model: m ? decodeURIComponent(m[1]) : null, range, column: params.get('column') };
  }
  function href(model, range, column) {
    const q = new URLSearchParams({ range });
    if (column) q.set('column', column);
    return `#${model ? `/model/${encodeURIComponent(model)}` : '/'}?${q}`;
  }
  const esc = (s) =>
    String(s ?? '').replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
    );
  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return '–';
    if (v === Infinity) return '∞';
    const a = Math.abs(v);
    if (v !== 0 && (a < 1e-4 || a >= 1e7)) return v.toExponential(2);
    return String(Number(v.toPrecision(4)));
  }
  const time = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '–');
  function ago(ms) {
    if (!ms) return '';
    const s = Math.max(0, (Date.now() - ms) / 1000);
    if (s < 90) return `${Math.round(s)} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
    return `${(s / 86400).toFixed(1)} d`;
  }
  const badge = (text, cls) => `<span class="badge ${esc(cls ?? text)}">${esc(text)}</span>`;

  // ---- API -------------------------------------------------------------------------------------

  async function api(path) {
    const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (res.status === 401) {
      location.href = '/login';
      throw new Error('unauthorized');
    }
    if (!res.ok) throw new Error(`${path}: ${res.status} ${(await res.text()).slice(0, 200)}`);
    return res.json();
  }
  async function post(path, body) {
    if (!csrf) csrf = (await api('/api/csrf')).token;
    const res = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify(body ?? {}),
    });
    const answer = await res.json().catch(() => ({}));
    if (res.status === 403) csrf = null;
    return { status: res.status, ok: res.ok, answer };
  }

  function toast(text) {
    const el = document.createElement('div');
    el.className = 'toast';
    el.textContent = text;
    document.getElementById('toasts').append(el);
    setTimeout(() => el.remove(), 6000);
  }

  // ---- charts (uPlot) --------------------------------------------------------------------------

  function destroyCharts() {
    while (charts.length) charts.pop().destroy();
  }

  /** Vertical lines at deployments, labelled with the version: at the event time of the deployed version's first traffic (wall-clock time until it has some). */
  function deploymentMarkers(deployments) {
    return {
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            for (const d of deployments) {
              const x = u.valToPos((d.eventAt ?? d.at) / 1000, 'x', true);
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
              ctx.strokeStyle = '#7a5af8';
              ctx.setLineDash([4, 3]);
              ctx.lineWidth = 1.5 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.fillStyle = '#7a5af8';
              ctx.font = `${11 * devicePixelRatio}px system-ui`;
              ctx.fillText(`${d.action} v${d.version}`, x + 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  function timeChart(el, { series, data, deployments = [], height = 220, yLabel = '' }) {
    const width = Math.max(300, el.clientWidth || 560);
    const opts = {
      width,
      height,
      scales: { x: { time: true } },
      axes: [{}, { label: yLabel, size: 60 }],
      series: [{}, ...series],
      plugins: [deploymentMarkers(deployments)],
    };
    const chart = new uPlot(opts, data, el);
    el.dataset.points = String(data[0].length);
    charts.push(chart);
    return chart;
  }

  function sparkline(el, xs, ys, threshold) {
    const chart = new uPlot(
      {
        width: 170,
        height: 36,
        legend: { show: false },
        cursor: { show: false },
        axes: [{ show: false }, { show: false }],
        scales: { x: { time: false } },
        series: [{}, { stroke: COLORS.ink, width: 1.5 }, { stroke: COLORS.drift, width: 1, dash: [3, 3] }],
      },
      [xs, ys, xs.map(() => threshold)],
      el,
    );
    el.dataset.points = String(ys.filter((y) => y !== null).length);
    charts.push(chart);
  }

  /** Marks a view as drawn with its data: for tests (`data-loaded`) and the bench (the `loaded-<view>` mark). */
  function loaded(name) {
    document.body.dataset.loaded = name;
    performance.mark(`loaded-${name}`);
  }

  // ---- overview --------------------------------------------------------------------------------

  async function renderOverview(r) {
    const since = r.range;
    const [models, alerts, runs] = await Promise.all([
      api('/api/models'),
      api(`/api/alerts?since=${since}`),
      api(`/api/retrain-runs?since=${since}`),
    ]);
    destroyCharts();
    document.getElementById('crumbs').textContent = 'Overview';
    view.innerHTML = `
      <h1>Models</h1>
      <section><table id="models"><thead><tr><th>Model</th><th>Champion</th><th>State</th><th>For</th>
        <th>Events / min</th><th>Open alerts</th><th>Newest window</th></tr></thead><tbody>
        ${models
          .map(
            (m) => `<tr data-model="${esc(m.model)}" data-state="${esc(m.state)}">
          <td><a href="${href(m.model, r.range)}">${esc(m.model)}</a></td>
          <td>${m.champion ? `v${m.champion}` : '–'}</td>
          <td>${badge(m.state === 'insufficient_data' ? 'insufficient data' : m.state, m.state)}${m.version ? ` <span class="muted">v${m.version}</span>` : ''}</td>
          <td>${ago(m.since)}</td><td class="num">${fmt(m.eventsPerMinute)}</td>
          <td class="num">${m.openAlerts > 0 ? badge(String(m.openAlerts), 'open') : '0'}</td>
          <td>${time(m.windowEnd)}</td></tr>`,
          )
          .join('')}
      </tbody></table>${models.length === 0 ? '<p class="muted">No models yet.</p>' : ''}</section>
      <div class="grid">${alertLog(alerts)}${runLog(runs)}</div>`;
    loaded('overview');
  }

  function alertLog(alerts) {
    return `<section id="alerts"><h2>Alert log</h2>${
      alerts.length === 0
        ? '<p class="muted">No alerts in this range.</p>'
        : `<table><thead><tr><th>Opened</th><th>Model</th><th>Severity</th><th>Status</th><th>Messages</th></tr></thead><tbody>${alerts
            .map(
              (a) => `<tr><td>${time(Date.parse(a.opened_at))}</td><td>${esc(a.model_name)} v${a.model_version}</td>
              <td>${esc(a.severity)}</td><td>${badge(a.status)}</td>
              <td>${a.messages.map((m) => `${esc(m.kind)} ${m.deliveries.map((d) => `${esc(d.channel)}:${esc(d.status)}`).join(' ')}`).join('<br>')}</td></tr>`,
            )
            .join('')}</tbody></table>`
    }</section>`;
  }

  function runLog(runs) {
    return `<section id="runs"><h2>Retraining runs</h2>${
      runs.length === 0
        ? '<p class="muted">No retraining in this range.</p>'
        : `<table><thead><tr><th>Started</th><th>Model</th><th>Trigger</th><th>Outcome</th><th>Champion → challenger RMSE</th><th>Reason</th></tr></thead><tbody>${runs
            .map(
              (
                x,
              ) => `<tr data-run="${esc(x.run_id)}"><td>${time(x.started_at_ms)}</td><td>${esc(x.model_name)}</td><td>${esc(x.trigger)}</td>
              <td>${badge(x.refusal ? `${x.state}: ${x.refusal}` : x.state, x.state)}${x.deployed ? ' deployed' : ''}</td>
              <td class="num">v${x.champion_version} ${fmt(x.champion_rmse)} → ${x.challenger_version ? `v${x.challenger_version} ` : ''}${fmt(x.challenger_rmse)}</td>
              <td class="muted">${esc(x.reason)}</td></tr>`,
            )
            .join('')}</tbody></table>`
    }</section>`;
  }

  // ---- one model -------------------------------------------------------------------------------

  async function renderModel(r) {
    const m = encodeURIComponent(r.model);
    const windows = api(`/api/models/${m}/windows?since=${r.range}`);
    // The column shown (asked for, else the first drifted feature): its distribution is read as soon
    // as the windows are, beside the slower reads.
    const chosenOf = (win) => {
      const newest = win.windows.at(-1);
      const names = win.columns.map((c) => c.column);
      return r.column && names.includes(r.column) ? r.column : (newest?.driftedFeatures[0] ?? names[0]);
    };
    const distribution = windows.then((win) => {
      const column = chosenOf(win);
      return column ? api(`/api/models/${m}/columns/${encodeURIComponent(column)}`) : null;
    });
    const [detail, win, preds, alerts, runs, dist] = await Promise.all([
      api(`/api/models/${m}`),
      windows,
      api(`/api/models/${m}/predictions?since=${r.range}`),
      api(`/api/alerts?model=${m}&since=${r.range}`),
      api(`/api/retrain-runs?model=${m}&since=${r.range}`),
      distribution,
    ]);
    destroyCharts();
    const newest = win.windows.at(-1);
    const columns = win.columns;
    const chosen = chosenOf(win);
    const reports = win.windows.filter((w) => w.report);
    document.getElementById('crumbs').innerHTML = `<a href="${href(null, r.range)}">Overview</a> / ${esc(r.model)}`;
    view.innerHTML = `
      <h1>${esc(r.model)} ${detail.champion ? `<span class="muted">champion v${detail.champion}</span>` : ''}
        ${newest ? badge(newest.state) : ''}</h1>
      <section class="actions">
        <button type="button" id="retrain">Retrain now</button>
        <button type="button" id="rollback">Roll back</button>
        <button type="button" id="test-alert">Send test alert</button>
        <span id="action-result" class="muted"></span>
      </section>
      <section id="drifted"><h2>Newest window</h2>${
        newest
          ? `<p>${time(newest.start)} – ${time(newest.end)} · v${newest.version} · ${newest.rows} rows · drift share ${fmt(newest.share)} (threshold ${fmt(newest.driftShare)})
             ${newest.driftedFeatures.length ? `· drifted: <span class="features" id="drifted-features">${newest.driftedFeatures.map(esc).join(', ')}</span>` : '· no feature drifted'}
             ${newest.predictionDrifted ? '· prediction drifted' : ''}</p>`
          : '<p class="muted">No drift windows in this range.</p>'
      }</section>
      <section id="columns"><h2>Columns</h2><table><thead><tr><th>Column</th><th>Method</th><th>Statistic</th><th>Threshold</th><th>Verdict</th><th>Over the windows</th></tr></thead><tbody>
        ${columns
          .map(
            (
              c,
              i,
            ) => `<tr data-column="${esc(c.column)}"><td><a href="${href(r.model, r.range, c.column)}">${esc(c.column)}</a></td><td>${esc(c.method)}</td>
            <td class="num">${fmt(c.statistic)}${c.pValue !== null ? ` <span class="muted">p ${fmt(c.pValue)}</span>` : ''}</td><td class="num">${fmt(c.threshold)}</td>
            <td>${badge(c.verdict)}</td><td><div class="spark" id="spark-${i}"></div></td></tr>`,
          )
          .join('')}</tbody></table></section>
      <div class="grid">
        <section><h2>Drift share over time</h2><div class="chart" id="chart-share"></div></section>
        <section><h2>Prediction over time</h2><div class="chart" id="chart-predictions"></div></section>
        <section><h2>Realized error vs holdout</h2><div class="chart" id="chart-performance"></div>
          <div class="legend-note" id="performance-note"></div></section>
        <section><h2>Reference vs current: <select id="column-select">${columns
          .map((c) => `<option ${c.column === chosen ? 'selected' : ''}>${esc(c.column)}</option>`)
          .join(
            '',
          )}</select></h2><div class="chart" id="chart-distribution"></div><div class="legend-note" id="distribution-note"></div></section>
      </div>
      <div class="grid">
        <section id="versions"><h2>Versions</h2><table><thead><tr><th>Version</th><th>Status</th><th>Holdout RMSE</th><th>MAE</th><th>R²</th><th>Trained</th><th>Trigger</th></tr></thead><tbody>
          ${detail.versions
            .map(
              (
                v,
              ) => `<tr><td>v${v.version}${v.champion ? ' ★' : ''}</td><td>${badge(v.status)}</td><td class="num">${fmt(v.rmse)}</td>
              <td class="num">${fmt(v.mae)}</td><td class="num">${fmt(v.r2)}</td><td>${esc(v.trainedAt.slice(0, 19).replace('T', ' '))}</td><td>${esc(v.trigger)}</td></tr>`,
            )
            .join('')}</tbody></table>
          <h2 style="margin-top:12px">Deployments</h2>${
            detail.deployments.length
              ? `<ul>${detail.deployments.map((d) => `<li>${time(d.at)} ${esc(d.action)} v${d.version}${d.from ? ` (from v${d.from})` : ''}</li>`).join('')}</ul>`
              : '<p class="muted">None recorded.</p>'
          }</section>
        <section id="reports"><h2>Drift reports</h2>${
          reports.length
            ? `<ul>${reports.map((w) => `<li><a href="/reports/${encodeURIComponent(w.report.split('/').pop())}" target="_blank">${time(w.end)} v${w.version}</a></li>`).join('')}</ul>`
            : '<p class="muted">No report in this range (one is written when a window turns to drift).</p>'
        }</section>
      </div>
      <div class="grid">${alertLog(alerts)}${runLog(runs)}</div>`;

    const xs = win.windows.map((w) => w.end / 1000);
    columns.forEach((c, i) => {
      sparkline(document.getElementById(`spark-${i}`), xs, c.statistics, c.threshold);
    });
    const deployments = detail.deployments;
    timeChart(document.getElementById('chart-share'), {
      data: [xs, win.windows.map((w) => w.share), win.windows.map((w) => w.driftShare)],
      series: [
        { label: 'share of drifted columns', stroke: COLORS.drift, width: 2, fill: 'rgba(240,68,56,0.08)' },
        { label: 'threshold', stroke: COLORS.grey, dash: [5, 4] },
      ],
      deployments,
    });
    timeChart(document.getElementById('chart-predictions'), {
      data: [preds.t.map((t) => t / 1000), preds.p10, preds.p50, preds.p90, preds.mean],
      series: [
        { label: 'p10', stroke: '#b2ddff' },
        { label: 'median', stroke: COLORS.ref, width: 1.5 },
        { label: 'p90', stroke: '#b2ddff' },
        { label: 'mean', stroke: COLORS.cur, width: 2 },
      ],
      deployments,
    });
    const labelled = win.windows.filter((w) => w.rmse !== null);
    document.getElementById('performance-note').textContent = labelled.length
      ? `${labelled.length} windows with labels`
      : 'No labels have arrived for these windows yet.';
    timeChart(document.getElementById('chart-performance'), {
      data: [
        labelled.map((w) => w.end / 1000),
        labelled.map((w) => w.rmse),
        labelled.map((w) => w.mae),
        labelled.map((w) => w.holdoutRmse),
      ],
      series: [
        { label: 'realized RMSE', stroke: COLORS.drift, width: 2 },
        { label: 'realized MAE', stroke: COLORS.cur, width: 1.5 },
        { label: 'holdout RMSE', stroke: COLORS.grey, dash: [5, 4] },
      ],
      deployments,
    });
    if (chosen && dist) renderDistribution(chosen, dist);
    document.getElementById('column-select').addEventListener('change', (e) => {
      location.hash = href(r.model, r.range, e.target.value);
    });
    bindActions(r.model);
    loaded('model');
  }

  /** A categorical column: each category's share of the reference and of the window, as paired bars. */
  function renderCategories(d) {
    const el = document.getElementById('chart-distribution');
    const max = Math.max(1e-12, ...d.reference, ...d.current);
    const pct = (v) => `${(v * 100).toFixed(1)} %`;
    el.innerHTML = `<div class="category-bars">${d.categories
      .map(
        (c, i) => `<div class="category-row"><span class="category-label" title="${esc(c)}">${esc(c)}</span>
          <span class="category-pair">
            <span class="bar ref" style="width:${((d.reference[i] / max) * 100).toFixed(1)}%"></span>
            <span class="bar cur" style="width:${((d.current[i] / max) * 100).toFixed(1)}%"></span>
          </span><span class="muted">${pct(d.reference[i])} → ${pct(d.current[i])}</span></div>`,
      )
      .join('')}</div>`;
    el.dataset.points = String(d.categories.length);
    document.getElementById('distribution-note').textContent =
      `v${d.version}: category shares, reference (n ${d.referenceCount}) → current (n ${d.currentCount})` +
      (d.windowEnd ? ` (window ${time(d.windowStart)} – ${time(d.windowEnd)})` : ' (no sketches yet)');
  }

  function renderDistribution(column, d) {
    if (d.kind === 'categorical') return renderCategories(d);
    const el = document.getElementById('chart-distribution');
    const xs = d.edges.slice(0, -1).map((e, i) => (e + d.edges[i + 1]) / 2);
    const chart = new uPlot(
      {
        width: Math.max(300, el.clientWidth || 560),
        height: 220,
        scales: { x: { time: false } },
        axes: [{ label: column }, { label: 'density', size: 60 }],
        series: [
          {},
          {
            label: `reference (n ${d.referenceCount})`,
            stroke: COLORS.ref,
            fill: 'rgba(46,144,250,0.25)',
            paths: uPlot.paths.stepped({ align: 0 }),
          },
          {
            label: `current (n ${d.currentCount})`,
            stroke: COLORS.cur,
            fill: 'rgba(247,144,9,0.2)',
            paths: uPlot.paths.stepped({ align: 0 }),
          },
        ],
      },
      [xs, d.reference.length ? d.reference : xs.map(() => null), d.current.length ? d.current : xs.map(() => null)],
      el,
    );
    el.dataset.points = String(xs.length);
    charts.push(chart);
    document.getElementById('distribution-note').textContent =
      `v${d.version}: reference mean ${fmt(d.referenceMean)}, current mean ${fmt(d.currentMean)}` +
      (d.windowEnd ? ` (window ${time(d.windowStart)} – ${time(d.windowEnd)})` : ' (no sketches yet)');
  }

  /** The last action's outcome, kept across re-renders (a live update redraws the page meanwhile). */
  let lastAction = null;
  function showAction() {
    const out = document.getElementById('action-result');
    if (!out || !lastAction || lastAction.model !== route().model) return;
    out.textContent = lastAction.text;
    if (lastAction.outcome) out.dataset.outcome = lastAction.outcome;
    else delete out.dataset.outcome;
  }

  function bindActions(model) {
    const run = async (button, label, path, describe) => {
      button.disabled = true;
      lastAction = { model, text: `${label}…`, outcome: null };
      showAction();
      try {
        const { ok, answer } = await post(path);
        const text = ok ? describe(answer) : `${label} failed: ${answer.message ?? answer.error ?? 'error'}`;
        lastAction = { model, text, outcome: ok ? 'ok' : 'failed' };
      } catch (error) {
        lastAction = { model, text: `${label} failed: ${error.message}`, outcome: 'failed' };
      } finally {
        button.disabled = false;
        showAction();
      }
    };
    const m = encodeURIComponent(model);
    document.getElementById('retrain').onclick = (e) =>
      run(
        e.target,
        'Retraining',
        `/api/models/${m}/retrain`,
        () => 'Retraining started; its outcome appears under Retraining runs.',
      );
    document.getElementById('rollback').onclick = (e) => {
      if (!confirm(`Roll ${model} back to its previous champion?`)) return;
      run(
        e.target,
        'Rollback',
        `/api/models/${m}/rollback`,
        (a) => `Rolled back: champion is v${a.champion} (was v${a.from}).`,
      );
    };
    document.getElementById('test-alert').onclick = (e) =>
      run(e.target, 'Test alert', '/api/alerts/test', (a) =>
        a.results.map((x) => `${x.channel}: ${x.ok ? 'ok' : `failed (${x.detail})`}`).join(' · '),
      );
    showAction();
  }

  // ---- wiring ----------------------------------------------------------------------------------

  function render() {
    const r = route();
    for (const b of document.querySelectorAll('.ranges button'))
      b.classList.toggle('active', b.dataset.range === r.range);
    rendering = rendering
      .then(() => (r.model ? renderModel(r) : renderOverview(r)))
      .catch((error) => {
        view.innerHTML = `<section><p>Could not load: ${esc(error.message)}</p></section>`;
      });
    return rendering;
  }

  for (const b of document.querySelectorAll('.ranges button')) {
    b.addEventListener('click', () => {
      const r = route();
      location.hash = href(r.model, b.dataset.range, r.column);
    });
  }
  window.addEventListener('hashchange', render);

  let pending = null;
  const events = new EventSource('/api/events');
  const live = document.getElementById('live');
  events.onopen = () => {
    live.textContent = 'live';
    live.classList.add('on');
  };
  events.onerror = () => {
    live.textContent = 'reconnecting…';
    live.classList.remove('on');
  };
  events.addEventListener('change', (e) => {
    const { kinds } = JSON.parse(e.data);
    const words = { drift: 'new drift evaluation', alerts: 'alert', runs: 'retraining run', deployments: 'deployment' };
    toast(`Updated: ${kinds.map((k) => words[k] ?? k).join(', ')}`);
    clearTimeout(pending);
    pending = setTimeout(render, 300);
  });

  render();
})();
