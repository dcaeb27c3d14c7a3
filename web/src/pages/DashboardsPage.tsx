import { useCallback, useEffect, useMemo, useRef, useState, type PointerEvent as RPointerEvent } from 'react';
import { api, ApiError, hasRole, type Dashboard, type DashboardInfo, type Meter, type User, type Widget, type WidgetType } from '../api';
import { useT, type MessageKey } from '../i18n';
import { useLive, useLiveWant } from '../live';
import { navigate } from '../router';
import { PHONE, useMedia } from '../useMedia';
import { SignalPicker, useSignalIndex } from '../components/SignalPicker';
import { WidgetBody } from '../components/Widgets';

const COLS = 12;
const ROW_PX = 72;
const GAP_PX = 12;
export const WIDGET_TYPES: WidgetType[] = ['value', 'gauge', 'trend', 'bar', 'pie', 'table', 'alarms'];
const DEFAULT_SIZE: Record<WidgetType, [number, number]> = {
  value: [3, 2],
  gauge: [3, 3],
  trend: [6, 3],
  bar: [4, 3],
  pie: [4, 3],
  table: [6, 3],
  alarms: [4, 2],
};

function message(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}

/** The home page: the user's and the tenant's shared dashboards, one of them shown. */
export function DashboardsPage({
  user,
  meters,
  dashboardId,
  params,
}: {
  user: User;
  meters: Meter[] | null;
  dashboardId?: number;
  params: URLSearchParams;
}) {
  const t = useT();
  const [list, setList] = useState<DashboardInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const l = await api.dashboards();
      l.sort((a, b) => Number(b.mine) - Number(a.mine) || a.name.localeCompare(b.name));
      setList(l);
      return l;
    } catch (err) {
      setError(message(err));
      return null;
    }
  }, []);
  useEffect(() => void load(), [load]);

  // Without an id in the URL, the first dashboard is shown.
  useEffect(() => {
    if (dashboardId === undefined && list && list.length > 0) navigate(`/dashboards/${list[0].id}`, true);
  }, [dashboardId, list]);

  async function create() {
    const name = prompt(t('dash.newName'), t('dash.defaultName'));
    if (!name?.trim()) return;
    try {
      const d = await api.createDashboard({ name: name.trim(), shared: false, layout: { widgets: [] } });
      navigate(`/dashboards/${d.id}?edit=1`);
      void load();
    } catch (err) {
      setError(message(err));
    }
  }

  return (
    <section className="page" data-testid="dashboards-page">
      <div className="page-head">
        <div className="dash-pick">
          <h1 className="sr-only">{t('nav.dashboards')}</h1>
          <select
            className="select dash-select"
            aria-label={t('nav.dashboards')}
            data-testid="dashboard-select"
            value={dashboardId ?? ''}
            onChange={(e) => navigate(`/dashboards/${e.target.value}`)}
          >
            {(!list || list.length === 0) && <option value="">{t('nav.dashboards')}</option>}
            {list?.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
                {d.mine ? '' : ` (${d.owner})`}
                {d.shared ? ` · ${t('dash.sharedTag')}` : ''}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="btn btn-primary" onClick={create} data-testid="dashboard-new">
          {t('dash.new')}
        </button>
      </div>
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      {list && list.length === 0 && (
        <div className="card pad empty" data-testid="dashboards-empty">
          <h2>{t('dash.emptyTitle')}</h2>
          <p className="muted">{t('dash.emptyText')}</p>
          <p>
            <a href="#/meters">{t('dash.emptyMeters')}</a>
          </p>
        </div>
      )}
      {dashboardId !== undefined && (
        <DashboardView
          key={dashboardId}
          id={dashboardId}
          user={user}
          meters={meters}
          startEditing={params.get('edit') === '1'}
          onChanged={load}
          onDeleted={async () => {
            const l = await load();
            navigate(l && l.length ? `/dashboards/${l[0].id}` : '/dashboards', true);
          }}
        />
      )}
    </section>
  );
}

function newId(): string {
  return `w${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Places a widget of w x h in the first free row below the others. */
function freeSpot(widgets: Widget[], w: number): { x: number; y: number } {
  const bottom = widgets.reduce((m, wd) => Math.max(m, wd.y + wd.h), 0);
  for (let y = 0; y <= bottom; y++) {
    for (let x = 0; x + w <= COLS; x++) {
      const clash = widgets.some((o) => x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + 1);
      if (!clash) {
        const rowsFree = widgets.every((o) => !(x < o.x + o.w && o.x < x + w && o.y >= y && o.y < y + 3));
        if (rowsFree) return { x, y };
      }
    }
  }
  return { x: 0, y: bottom };
}

function DashboardView({
  id,
  user,
  meters,
  startEditing,
  onChanged,
  onDeleted,
}: {
  id: number;
  user: User;
  meters: Meter[] | null;
  startEditing: boolean;
  onChanged: () => void;
  onDeleted: () => void;
}) {
  const t = useT();
  const phone = useMedia(PHONE);
  const [dash, setDash] = useState<Dashboard | null>(null);
  const [draft, setDraft] = useState<Widget[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Widget | 'new' | null>(null);
  const [saving, setSaving] = useState(false);
  const index = useSignalIndex(meters);
  const { values } = useLive();

  useEffect(() => {
    api.dashboard(id).then(
      (d) => {
        if (!d.layout || !Array.isArray(d.layout.widgets)) d.layout = { widgets: [] };
        setDash(d);
        if (startEditing && d.mine) setDraft(d.layout.widgets);
      },
      (err) => setError(message(err)),
    );
  }, [id]);

  const widgets = draft ?? dash?.layout.widgets ?? [];
  const allSignals = useMemo(() => [...new Set(widgets.flatMap((w) => w.signals))], [widgets]);
  useLiveWant(allSignals);

  if (error) {
    return (
      <div className="alert" role="alert">
        {error}
      </div>
    );
  }
  if (!dash) return <p className="muted">{t('common.loading')}</p>;
  const canEdit = dash.mine || hasRole(user, 'administrator');

  async function save(patch: Partial<Pick<Dashboard, 'name' | 'shared'>> & { widgets?: Widget[] }) {
    if (!dash) return;
    setSaving(true);
    setError(null);
    try {
      const d = await api.updateDashboard(dash.id, {
        name: patch.name ?? dash.name,
        shared: patch.shared ?? dash.shared,
        layout: { widgets: patch.widgets ?? dash.layout.widgets },
      });
      if (!d.layout || !Array.isArray(d.layout.widgets)) d.layout = { widgets: patch.widgets ?? dash.layout.widgets };
      setDash(d);
      onChanged();
      return true;
    } catch (err) {
      setError(message(err));
      return false;
    } finally {
      setSaving(false);
    }
  }

  const update = (wid: string, change: Partial<Widget>) =>
    setDraft((ws) => settle((ws ?? []).map((w) => (w.id === wid ? clamp({ ...w, ...change }) : w)), wid));

  const sorted = [...widgets].sort((a, b) => a.y - b.y || a.x - b.x);

  return (
    <div className="dashboard" data-testid="dashboard" data-dashboard={dash.name} data-editing={draft ? 'true' : 'false'}>
      <div className="dash-bar">
        <h2 className="dash-title" data-testid="dashboard-title">
          {dash.name}
          {!dash.mine && <span className="muted small"> · {t('dash.by', { owner: dash.owner })}</span>}
        </h2>
        <div className="row-gap wrap">
          {draft ? (
            <>
              <button type="button" className="btn" onClick={() => setEditing('new')} data-testid="widget-add">
                {t('dash.addWidget')}
              </button>
              <button
                type="button"
                className="btn btn-primary"
                disabled={saving}
                data-testid="dashboard-save"
                onClick={async () => {
                  if (await save({ widgets: draft })) {
                    setDraft(null);
                    navigate(`/dashboards/${dash.id}`, true);
                  }
                }}
              >
                {t('common.save')}
              </button>
              <button
                type="button"
                className="btn"
                onClick={() => {
                  setDraft(null);
                  navigate(`/dashboards/${dash.id}`, true);
                }}
              >
                {t('common.cancel')}
              </button>
            </>
          ) : (
            canEdit && (
              <>
                <button type="button" className="btn" onClick={() => setDraft(dash.layout.widgets)} data-testid="dashboard-edit">
                  {t('dash.edit')}
                </button>
                <button
                  type="button"
                  className="btn"
                  data-testid="dashboard-rename"
                  onClick={() => {
                    const n = prompt(t('dash.renamePrompt'), dash.name);
                    if (n?.trim()) void save({ name: n.trim() });
                  }}
                >
                  {t('dash.rename')}
                </button>
                {hasRole(user, 'engineer') && (
                  <label className="check">
                    <input type="checkbox" checked={dash.shared} onChange={(e) => void save({ shared: e.target.checked })} data-testid="dashboard-share" />
                    {t('dash.share')}
                  </label>
                )}
                <button
                  type="button"
                  className="btn btn-danger"
                  data-testid="dashboard-delete"
                  onClick={async () => {
                    if (!confirm(t('dash.deleteConfirm', { name: dash.name }))) return;
                    try {
                      await api.deleteDashboard(dash.id);
                      onDeleted();
                    } catch (err) {
                      setError(message(err));
                    }
                  }}
                >
                  {t('common.delete')}
                </button>
              </>
            )
          )}
        </div>
      </div>

      {editing && (
        <WidgetEditor
          meters={meters}
          widget={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onDone={(w) => {
            setDraft((ws) => {
              const list = ws ?? [];
              if (list.some((o) => o.id === w.id)) return settle(list.map((o) => (o.id === w.id ? w : o)), w.id);
              return settle([...list, { ...w, ...freeSpot(list, w.w) }], w.id);
            });
            setEditing(null);
          }}
        />
      )}

      {widgets.length === 0 && !editing && (
        <div className="card pad muted" data-testid="dashboard-empty">
          {draft ? t('dash.emptyEdit') : t('dash.emptyDashboard')}
        </div>
      )}

      <Grid phone={phone} editing={!!draft} onMove={update}>
        {(phone ? sorted : widgets).map((w) => (
          <div
            key={w.id}
            className={`widget card widget-${w.type}`}
            data-testid="widget"
            data-widget-type={w.type}
            data-widget-id={w.id}
            data-x={w.x}
            data-y={w.y}
            data-w={w.w}
            data-h={w.h}
            style={phone ? { minHeight: w.h * ROW_PX } : { gridColumn: `${w.x + 1} / span ${w.w}`, gridRow: `${w.y + 1} / span ${w.h}` }}
          >
            <div className="widget-head" data-drag={draft && !phone ? 'move' : undefined}>
              <span className="widget-title">{w.title || t(`widget.${w.type}` as MessageKey)}</span>
              {draft && (
                <span className="widget-tools">
                  {phone && (
                    <>
                      <button type="button" className="icon-btn" aria-label={t('dash.moveUp')} onClick={() => update(w.id, { y: w.y - 1 })}>
                        ↑
                      </button>
                      <button type="button" className="icon-btn" aria-label={t('dash.moveDown')} onClick={() => update(w.id, { y: w.y + 1 })}>
                        ↓
                      </button>
                      <button type="button" className="icon-btn" aria-label={t('dash.shorter')} onClick={() => update(w.id, { h: w.h - 1 })}>
                        −
                      </button>
                      <button type="button" className="icon-btn" aria-label={t('dash.taller')} onClick={() => update(w.id, { h: w.h + 1 })}>
                        +
                      </button>
                    </>
                  )}
                  <button type="button" className="icon-btn" aria-label={t('dash.editWidget')} onClick={() => setEditing(w)} data-testid="widget-edit">
                    ✎
                  </button>
                  <button
                    type="button"
                    className="icon-btn"
                    aria-label={t('dash.removeWidget')}
                    onClick={() => setDraft((ws) => (ws ?? []).filter((o) => o.id !== w.id))}
                    data-testid="widget-remove"
                  >
                    ×
                  </button>
                </span>
              )}
            </div>
            <div className="widget-body">
              <WidgetBody widget={w} index={index} values={values} />
            </div>
            {draft && !phone && <div className="resize-handle" data-drag="resize" aria-hidden="true" />}
          </div>
        ))}
      </Grid>
    </div>
  );
}

function overlaps(a: Widget, b: Widget): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Resolves overlaps after `movedId` moved or grew: it keeps its place, the others give way
 * downwards (in their order from the top), then everything floats up as far as it can.
 */
function settle(widgets: Widget[], movedId: string): Widget[] {
  const moved = widgets.find((w) => w.id === movedId);
  const others = widgets.filter((w) => w.id !== movedId).sort((a, b) => a.y - b.y || a.x - b.x);
  const placed: Widget[] = moved ? [moved] : [];
  for (const w of others) {
    const c = { ...w };
    for (let guard = 0; guard < 500; guard++) {
      const hit = placed.find((p) => overlaps(p, c));
      if (!hit) break;
      c.y = hit.y + hit.h;
    }
    placed.push(c);
  }
  // Float up: in order from the top, each widget rises while nothing is in the way.
  const out: Widget[] = [];
  for (const w of [...placed].sort((a, b) => a.y - b.y || a.x - b.x)) {
    const c = { ...w };
    while (c.y > 0 && !out.some((o) => overlaps(o, { ...c, y: c.y - 1 }))) c.y--;
    out.push(c);
  }
  const byId = new Map(out.map((w) => [w.id, w]));
  return widgets.map((w) => byId.get(w.id)!);
}

function clamp(w: Widget): Widget {
  const wd = Math.max(1, Math.min(COLS, Math.round(w.w)));
  return {
    ...w,
    w: wd,
    h: Math.max(1, Math.min(12, Math.round(w.h))),
    x: Math.max(0, Math.min(COLS - wd, Math.round(w.x))),
    y: Math.max(0, Math.round(w.y)),
  };
}

/** The 12-column grid; in edit mode a widget's head moves it and its corner resizes it. */
function Grid({
  phone,
  editing,
  onMove,
  children,
}: {
  phone: boolean;
  editing: boolean;
  onMove: (id: string, change: Partial<Widget>) => void;
  children: React.ReactNode;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const drag = useRef<{ id: string; mode: 'move' | 'resize'; sx: number; sy: number; x: number; y: number; w: number; h: number } | null>(null);

  const down = (e: RPointerEvent<HTMLDivElement>) => {
    if (!editing || phone) return;
    const target = e.target as HTMLElement;
    if (target.closest('button')) return;
    const handle = target.closest('[data-drag]') as HTMLElement | null;
    const widget = target.closest('[data-widget-id]') as HTMLElement | null;
    if (!handle || !widget) return;
    const d = widget.dataset;
    drag.current = {
      id: d.widgetId!,
      mode: handle.dataset.drag === 'resize' ? 'resize' : 'move',
      sx: e.clientX,
      sy: e.clientY,
      x: Number(d.x),
      y: Number(d.y),
      w: Number(d.w),
      h: Number(d.h),
    };
    ref.current?.setPointerCapture(e.pointerId);
    e.preventDefault();
  };
  const move = (e: RPointerEvent<HTMLDivElement>) => {
    const g = drag.current;
    const el = ref.current;
    if (!g || !el) return;
    const colPx = (el.clientWidth - GAP_PX * (COLS - 1)) / COLS + GAP_PX;
    const rowPx = ROW_PX + GAP_PX;
    const dx = Math.round((e.clientX - g.sx) / colPx);
    const dy = Math.round((e.clientY - g.sy) / rowPx);
    if (g.mode === 'move') onMove(g.id, { x: g.x + dx, y: g.y + dy });
    else onMove(g.id, { w: g.w + dx, h: g.h + dy });
  };
  const up = (e: RPointerEvent<HTMLDivElement>) => {
    if (!drag.current) return;
    drag.current = null;
    ref.current?.releasePointerCapture(e.pointerId);
  };
  return (
    <div
      ref={ref}
      className={`grid${phone ? ' grid-phone' : ''}${editing ? ' grid-editing' : ''}`}
      style={phone ? undefined : { gridAutoRows: `${ROW_PX}px`, gap: `${GAP_PX}px` }}
      onPointerDown={down}
      onPointerMove={move}
      onPointerUp={up}
      onPointerCancel={up}
      data-testid="grid"
    >
      {children}
    </div>
  );
}

function WidgetEditor({
  meters,
  widget,
  onDone,
  onCancel,
}: {
  meters: Meter[] | null;
  widget: Widget | null;
  onDone: (w: Widget) => void;
  onCancel: () => void;
}) {
  const t = useT();
  const [type, setType] = useState<WidgetType>(widget?.type ?? 'value');
  const [title, setTitle] = useState(widget?.title ?? '');
  const [signals, setSignals] = useState<number[]>(widget?.signals ?? []);
  const [min, setMin] = useState(String(widget?.options.min ?? ''));
  const [max, setMax] = useState(String(widget?.options.max ?? ''));
  const [minutes, setMinutes] = useState(String(widget?.options.minutes ?? '60'));
  const single = type === 'gauge';
  return (
    <div className="card pad widget-editor" data-testid="widget-editor">
      <h2>{widget ? t('dash.editWidget') : t('dash.addWidget')}</h2>
      <div className="form-grid">
        <label className="field">
          <span>{t('widget.type')}</span>
          <select className="select" value={type} onChange={(e) => setType(e.target.value as WidgetType)} data-testid="widget-type">
            {WIDGET_TYPES.map((k) => (
              <option key={k} value={k}>
                {t(`widget.${k}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t('widget.title')}</span>
          <input value={title} onChange={(e) => setTitle(e.target.value)} data-testid="widget-title" />
        </label>
        {type === 'gauge' && (
          <>
            <label className="field">
              <span>{t('widget.min')}</span>
              <input type="number" value={min} onChange={(e) => setMin(e.target.value)} />
            </label>
            <label className="field">
              <span>{t('widget.max')}</span>
              <input type="number" value={max} onChange={(e) => setMax(e.target.value)} />
            </label>
          </>
        )}
        {type === 'trend' && (
          <label className="field">
            <span>{t('widget.minutes')}</span>
            <input type="number" min={5} value={minutes} onChange={(e) => setMinutes(e.target.value)} />
          </label>
        )}
      </div>
      {type !== 'alarms' && (
        <>
          <div className="field-label">{single ? t('widget.signal') : t('widget.signals')}</div>
          <SignalPicker meters={meters} value={single ? signals.slice(0, 1) : signals} onChange={setSignals} max={single ? 1 : 16} />
        </>
      )}
      <div className="row-gap">
        <button
          type="button"
          className="btn btn-primary"
          data-testid="widget-ok"
          disabled={type !== 'alarms' && signals.length === 0}
          onClick={() => {
            const [w, h] = DEFAULT_SIZE[type];
            const options: Record<string, unknown> = {};
            if (type === 'gauge') {
              if (min.trim() !== '') options.min = Number(min);
              if (max.trim() !== '') options.max = Number(max);
            }
            if (type === 'trend') options.minutes = Math.max(5, Number(minutes) || 60);
            onDone({
              id: widget?.id ?? newId(),
              type,
              title: title.trim(),
              signals: type === 'alarms' ? [] : single ? signals.slice(0, 1) : signals,
              options,
              x: widget?.x ?? 0,
              y: widget?.y ?? 0,
              w: widget && widget.type === type ? widget.w : w,
              h: widget && widget.type === type ? widget.h : h,
            });
          }}
        >
          {widget ? t('common.apply') : t('dash.addWidget')}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </div>
  );
}
