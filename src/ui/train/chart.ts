// The loss chart's geometry, apart from the SVG that draws it: axis ranges with round tick values, and
// curves as SVG path strings. Long runs are thinned to at most a few points per pixel column (keeping
// each column's lowest and highest loss), so the path stays small while a spike still shows.

export interface LossPoint {
  step: number;
  loss: number;
}

export interface Frame {
  width: number;
  height: number;
  /** Room for the axis labels: left, right, top, bottom. */
  margin: { left: number; right: number; top: number; bottom: number };
}

export interface Axis {
  min: number;
  max: number;
  ticks: number[];
  /** The ticks as the axis writes them: as many decimals as the tick step needs, so no two are alike. */
  labels: string[];
}

export interface Scales {
  x: Axis;
  y: Axis;
  /** Data → pixel. */
  px(step: number): number;
  py(loss: number): number;
}

/**
 * Round tick values covering [min, max]: steps of 1, 2 or 5 × 10^k, about `count` of them, and at
 * least two whenever min < max (a smaller step is taken when the first choice fits only one).
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max < min) [min, max] = [max, min];
  if (max === min) return [min];
  const mantissas = [1, 2, 5];
  const raw = (max - min) / Math.max(1, count);
  let k = Math.floor(Math.log10(raw));
  let i = mantissas.findIndex((m) => m * 10 ** k >= raw);
  if (i < 0) [i, k] = [0, k + 1];
  for (;;) {
    const step = mantissas[i] * 10 ** k;
    const first = Math.ceil(min / step - 1e-9) * step;
    const ticks: number[] = [];
    for (let v = first; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
    if (ticks.length >= 2) return ticks;
    if (--i < 0) [i, k] = [mantissas.length - 1, k - 1];
  }
}

/**
 * Tick values as text with the decimals their step needs: a step of m·10^k (m = 1, 2 or 5) is a
 * multiple of 10^k, so max(0, −k) decimals write every tick exactly and two ticks never read alike
 * (5.596, 5.598, 5.600 rather than 5.60, 5.60, 5.60).
 */
export function tickLabels(ticks: number[]): string[] {
  if (ticks.length === 0) return [];
  if (ticks.length === 1) return [String(ticks[0])];
  const step = Math.abs(ticks[1] - ticks[0]);
  const decimals = Math.min(12, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
  return ticks.map((t) => t.toFixed(decimals));
}

/**
 * Scales for the given curves: x from step 0 (or the first step) to the last of `totalSteps` and the
 * data; y from just below the lowest finite loss to just above the highest, padded by 5% so lines do
 * not sit on the frame.
 */
export function lossScales(series: LossPoint[][], frame: Frame, totalSteps = 0): Scales {
  let xMax = totalSteps;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const s of series) {
    for (const p of s) {
      if (p.step > xMax) xMax = p.step;
      if (!Number.isFinite(p.loss)) continue;
      if (p.loss < yMin) yMin = p.loss;
      if (p.loss > yMax) yMax = p.loss;
    }
  }
  if (!Number.isFinite(yMin)) {
    yMin = 0;
    yMax = 1;
  }
  const pad = Math.max((yMax - yMin) * 0.05, Math.abs(yMax) * 1e-3, 1e-6);
  yMin -= pad;
  yMax += pad;
  if (xMax <= 0) xMax = 1;
  const { width, height, margin } = frame;
  const plotW = Math.max(1, width - margin.left - margin.right);
  const plotH = Math.max(1, height - margin.top - margin.bottom);
  const px = (step: number) => margin.left + (step / xMax) * plotW;
  const py = (loss: number) => margin.top + (1 - (loss - yMin) / (yMax - yMin)) * plotH;
  const xTicks = niceTicks(0, xMax, 5).filter((t) => Number.isInteger(t));
  const yTicks = niceTicks(yMin, yMax, 4);
  return {
    x: { min: 0, max: xMax, ticks: xTicks, labels: xTicks.map(String) },
    y: { min: yMin, max: yMax, ticks: yTicks, labels: tickLabels(yTicks) },
    px,
    py,
  };
}

/**
 * Keeps at most two points (the lowest and highest loss, in step order) per `columns` bucket of the
 * x range, plus the last point. Non-finite losses are dropped (the run reports them separately).
 */
export function thin(points: LossPoint[], columns: number): LossPoint[] {
  const finite = points.filter((p) => Number.isFinite(p.loss));
  if (finite.length <= 2 * columns) return finite;
  const first = finite[0].step;
  const span = finite[finite.length - 1].step - first || 1;
  const out: LossPoint[] = [];
  let bucket = -1;
  let lo: LossPoint | null = null;
  let hi: LossPoint | null = null;
  const flush = () => {
    if (!lo || !hi) return;
    if (lo === hi) out.push(lo);
    else out.push(...(lo.step < hi.step ? [lo, hi] : [hi, lo]));
  };
  for (const p of finite) {
    const b = Math.min(columns - 1, Math.floor(((p.step - first) / span) * columns));
    if (b !== bucket) {
      flush();
      bucket = b;
      lo = hi = p;
    } else {
      if (p.loss < lo!.loss) lo = p;
      if (p.loss > hi!.loss) hi = p;
    }
  }
  flush();
  const last = finite[finite.length - 1];
  if (out[out.length - 1] !== last) out.push(last);
  return out;
}

/** An SVG path ("M x y L x y …") through the points, two decimals per coordinate. */
export function linePath(points: LossPoint[], scales: Scales): string {
  let d = '';
  for (const p of points) {
    if (!Number.isFinite(p.loss)) continue;
    d += `${d ? 'L' : 'M'}${scales.px(p.step).toFixed(2)} ${scales.py(p.loss).toFixed(2)}`;
  }
  return d;
}

/**
 * Exponential moving average with bias correction (as TensorBoard's smoothing), so the first points are
 * not pulled towards zero: s_t = β·s_{t−1} + (1−β)·x_t, shown as s_t / (1 − β^t).
 */
export function smooth(points: LossPoint[], beta = 0.9): LossPoint[] {
  let s = 0;
  let n = 0;
  const out: LossPoint[] = [];
  for (const p of points) {
    if (!Number.isFinite(p.loss)) continue;
    n++;
    s = beta * s + (1 - beta) * p.loss;
    out.push({ step: p.step, loss: s / (1 - beta ** n) });
  }
  return out;
}
