/** Number formatting shared by figure titles, tables and the page. */

/** `v` to `digits` significant digits, without exponent noise for ordinary magnitudes. */
export function sig(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-4 && a < 1e6) return String(Number(v.toPrecision(digits)));
  return v.toExponential(digits - 1);
}

/**
 * `value ± error` with the error to two significant digits and the value to the same
 * decimal place (0.4123 ± 0.0213 → "0.412 ± 0.021"); a missing error prints as "± ?".
 */
export function pm(value: number | null | undefined, err: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "n/a";
  if (err === null || err === undefined || !Number.isFinite(err)) return `${sig(value)} ± ?`;
  if (err <= 0) return `${sig(value)} ± 0`;
  if (err < 1e-6 * Math.abs(value)) return `${sig(value, 4)} ± ${err.toExponential(1)}`;
  const decimals = Math.min(10, Math.max(0, 1 - Math.floor(Math.log10(err))));
  if (Math.abs(value) >= 1e6 || err >= 1e6) return `${value.toExponential(2)} ± ${err.toExponential(1)}`;
  return `${value.toFixed(decimals)} ± ${err.toFixed(decimals)}`;
}

/** Seconds as "1 h 02 min", "3 min 20 s" or "12.3 s". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "n/a";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  return `${m} min ${String(r).padStart(2, "0")} s`;
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}
