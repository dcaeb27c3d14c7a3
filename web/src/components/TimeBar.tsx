import { useEffect, useRef, useState, type PointerEvent as RPointerEvent } from 'react';
import uPlot from 'uplot';
import { api } from '../api';
import { useT } from '../i18n';
import { displayFor, formatShortTs } from '../format';
import type { SignalRef } from './SignalPicker';

/**
 * The time bar under a trend: an overview of the first signal over a wider context, with the
 * shown window as a box that is dragged to pan (or its edges to change the span).
 */
export function TimeBar({
  ctxFrom,
  ctxTo,
  from,
  to,
  signal,
  onRange,
}: {
  ctxFrom: number;
  ctxTo: number;
  from: number;
  to: number;
  signal: SignalRef | undefined;
  onRange: (from: number, to: number) => void;
}) {
  const t = useT();
  const barRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<HTMLDivElement>(null);
  const [win, setWin] = useState<{ from: number; to: number }>({ from, to });
  const drag = useRef<{ mode: 'move' | 'left' | 'right'; sx: number; from: number; to: number } | null>(null);
  useEffect(() => setWin({ from, to }), [from, to]);

  // The overview line of the first signal.
  useEffect(() => {
    const el = plotRef.current;
    if (!el || !signal) return;
    const width = Math.max(100, el.clientWidth);
    const plot = new uPlot(
      {
        width,
        height: 40,
        legend: { show: false },
        cursor: { show: false },
        axes: [{ show: false }, { show: false }],
        scales: { x: { time: true, range: () => [ctxFrom / 1000, ctxTo / 1000] } },
        series: [{}, { stroke: '#94a3b8', fill: 'rgba(148,163,184,0.25)', width: 1, spanGaps: true, points: { show: false } }],
      },
      [[], []],
      el,
    );
    let disposed = false;
    const f = displayFor(signal.signal).factor;
    api
      .chart(signal.signal.id, ctxFrom, ctxTo, Math.min(4000, 2 * width))
      .then((h) => {
        if (disposed) return;
        const pts = h.points ?? [];
        plot.setData([pts.map((p) => p[0] / 1000), pts.map((p) => (p[1] == null ? null : p[1] * f))]);
      })
      .catch(() => undefined);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(100, el.clientWidth), height: 40 }));
    ro.observe(el);
    return () => {
      disposed = true;
      ro.disconnect();
      plot.destroy();
    };
  }, [signal?.signal.id, ctxFrom, ctxTo]);

  const span = ctxTo - ctxFrom;
  const pct = (ms: number) => `${(100 * (ms - ctxFrom)) / span}%`;
  const msPerPx = () => span / Math.max(1, barRef.current?.clientWidth ?? 1);

  const down = (e: RPointerEvent<HTMLDivElement>) => {
    const target = e.target as HTMLElement;
    const mode = (target.dataset.edge as 'left' | 'right' | undefined) ?? (target.closest('.tb-window') ? 'move' : null);
    if (!mode) {
      // A click beside the window centres it there.
      const rect = barRef.current!.getBoundingClientRect();
      const at = ctxFrom + (e.clientX - rect.left) * msPerPx();
      const w = win.to - win.from;
      const nf = Math.max(ctxFrom, Math.min(ctxTo - w, at - w / 2));
      onRange(nf, nf + w);
      return;
    }
    drag.current = { mode, sx: e.clientX, from: win.from, to: win.to };
    barRef.current?.setPointerCapture(e.pointerId);
    e.preventDefault();
  };
  const move = (e: RPointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    if (!d) return;
    const dms = (e.clientX - d.sx) * msPerPx();
    const minSpan = 60_000;
    if (d.mode === 'move') {
      const w = d.to - d.from;
      const nf = Math.max(ctxFrom, Math.min(ctxTo - w, d.from + dms));
      setWin({ from: nf, to: nf + w });
    } else if (d.mode === 'left') {
      setWin({ from: Math.max(ctxFrom, Math.min(d.to - minSpan, d.from + dms)), to: d.to });
    } else {
      setWin({ from: d.from, to: Math.min(ctxTo, Math.max(d.from + minSpan, d.to + dms)) });
    }
  };
  const up = (e: RPointerEvent<HTMLDivElement>) => {
    if (!drag.current) return;
    drag.current = null;
    barRef.current?.releasePointerCapture(e.pointerId);
    if (win.from !== from || win.to !== to) onRange(win.from, win.to);
  };

  return (
    <div className="timebar" data-testid="timebar">
      <div
        ref={barRef}
        className="tb-track"
        onPointerDown={down}
        onPointerMove={move}
        onPointerUp={up}
        onPointerCancel={up}
        title={t('trend.timebarHelp')}
      >
        <div ref={plotRef} className="tb-plot" />
        <div className="tb-window" style={{ left: pct(win.from), width: `${(100 * (win.to - win.from)) / span}%` }} data-testid="timebar-window">
          <div className="tb-edge left" data-edge="left" />
          <div className="tb-edge right" data-edge="right" />
        </div>
      </div>
      <div className="tb-labels small muted">
        <span>{formatShortTs(ctxFrom)}</span>
        <span>{formatShortTs(ctxTo)}</span>
      </div>
    </div>
  );
}
