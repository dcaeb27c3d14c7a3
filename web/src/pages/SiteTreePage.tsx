import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { api, ApiError, hasRole, NODE_KINDS, type Meter, type NodeKind, type Reading, type TreeNode, type User, type VirtualTerm } from '../api';
import { useT, type MessageKey } from '../i18n';
import { meterHref } from '../router';
import { formatFullTs, formatNumber, signalLabel } from '../format';

type Period = 'today' | 'week' | 'month';
const PERIODS: Period[] = ['today', 'week', 'month'];

/** Local start of the chosen period (weeks start on Monday). */
function periodStart(p: Period, now = new Date()): number {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  if (p === 'week') d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  if (p === 'month') d.setDate(1);
  return d.getTime();
}

function flatten(nodes: TreeNode[], depth = 0, out: { node: TreeNode; depth: number }[] = []) {
  for (const n of nodes) {
    out.push({ node: n, depth });
    flatten(n.children, depth + 1, out);
  }
  return out;
}

function subtreeIds(n: TreeNode, out = new Set<number>()): Set<number> {
  out.add(n.id);
  for (const c of n.children) subtreeIds(c, out);
  return out;
}

/** A number typed in either locale: "1.234,5" or "1,234.5" or "1234.5". */
function parseDecimal(text: string): number {
  const s = text.trim().replace(/\s/g, '');
  if (!s) return NaN;
  const lastComma = s.lastIndexOf(',');
  const lastDot = s.lastIndexOf('.');
  const normalized = lastComma > lastDot ? s.replace(/\./g, '').replace(',', '.') : s.replace(/,/g, '');
  return /^-?\d*\.?\d+$/.test(normalized) ? Number(normalized) : NaN;
}

/** The value of an <input type="datetime-local"> for a local time. */
function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function errorText(e: unknown): string {
  return e instanceof ApiError ? e.message : String(e);
}

/** The site tree: nodes with their consumption for a period; engineers change the tree,
 * operators enter manual meter readings. */
export function SiteTreePage({ user, meters }: { user: User; meters: Meter[] | null }) {
  const t = useT();
  const [roots, setRoots] = useState<TreeNode[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [period, setPeriod] = useState<Period>('today');
  const [totals, setTotals] = useState<Map<number, number>>(new Map());
  const [collapsed, setCollapsed] = useState<Set<number>>(new Set());
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const engineer = hasRole(user, 'engineer');
  const operator = hasRole(user, 'operator');

  const load = useCallback(async () => {
    try {
      setRoots((await api.tree()).nodes);
    } catch (e) {
      setError(errorText(e));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const flat = useMemo(() => flatten(roots ?? []), [roots]);
  const byId = useMemo(() => new Map(flat.map((f) => [f.node.id, f.node])), [flat]);
  const selected = selectedId !== null ? byId.get(selectedId) ?? null : null;

  // Totals of every node for the period; hourly intervals so that local day boundaries hold.
  useEffect(() => {
    let cancelled = false;
    const from = periodStart(period);
    const to = Date.now();
    Promise.all(
      flat.map(({ node }) =>
        api.consumption(node.id, from, to, 'hour').then(
          (c) => [node.id, c.total] as const,
          () => [node.id, NaN] as const,
        ),
      ),
    ).then((rows) => !cancelled && setTotals(new Map(rows)));
    return () => {
      cancelled = true;
    };
  }, [flat, period]);

  async function run(action: () => Promise<unknown>, done: MessageKey) {
    setError(null);
    setNotice(null);
    try {
      await action();
      setNotice(t(done));
      await load();
    } catch (e) {
      setError(errorText(e));
    }
  }

  const kindLabel = (k: NodeKind) => t(`tree.kind.${k}` as MessageKey);

  return (
    <section className="page" data-testid="site-tree-page">
      <div className="page-head">
        <div>
          <h1>{t('tree.title')}</h1>
          <p className="muted small">{t('tree.subtitle')}</p>
        </div>
        <label className="field inline">
          <span>{t('tree.period')}</span>
          <select aria-label={t('tree.period')} className="select" value={period} onChange={(e) => setPeriod(e.target.value as Period)} data-testid="tree-period">
            {PERIODS.map((p) => (
              <option key={p} value={p}>
                {t(`tree.period.${p}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && (
        <div className="alert" role="alert">
          {error}
        </div>
      )}
      {notice && (
        <div className="notice" role="status">
          {notice}
        </div>
      )}
      <div className="tree-layout">
        <div className="card pad">
          {roots === null && !error && <div className="muted">{t('common.loading')}</div>}
          {roots?.length === 0 && <div className="muted">{t('tree.empty')}</div>}
          {roots && roots.length > 0 && (
            <ul className="tree" role="tree" aria-label={t('tree.title')} data-testid="site-tree">
              {roots.map((n) => (
                <TreeItem
                  key={n.id}
                  node={n}
                  totals={totals}
                  collapsed={collapsed}
                  selectedId={selectedId}
                  onToggle={(id) =>
                    setCollapsed((c) => {
                      const next = new Set(c);
                      if (next.has(id)) next.delete(id);
                      else next.add(id);
                      return next;
                    })
                  }
                  onSelect={setSelectedId}
                  kindLabel={kindLabel}
                />
              ))}
            </ul>
          )}
        </div>
        <div>
          {selected && (
            <NodeDetails
              key={selected.id}
              node={selected}
              flat={flat}
              meters={meters}
              total={totals.get(selected.id)}
              engineer={engineer}
              operator={operator}
              kindLabel={kindLabel}
              run={run}
              onDeleted={() => setSelectedId(null)}
            />
          )}
          {engineer && <AddNodeForm flat={flat} meters={meters} parentId={selected && !isLeaf(selected.kind) ? selected.id : null} kindLabel={kindLabel} run={run} />}
        </div>
      </div>
    </section>
  );
}

function isLeaf(k: NodeKind) {
  return k === 'meter' || k === 'virtual_meter';
}

function TreeItem(props: {
  node: TreeNode;
  totals: Map<number, number>;
  collapsed: Set<number>;
  selectedId: number | null;
  onToggle: (id: number) => void;
  onSelect: (id: number) => void;
  kindLabel: (k: NodeKind) => string;
}) {
  const t = useT();
  const { node, totals, collapsed } = props;
  const open = !collapsed.has(node.id);
  const hasChildren = node.children.length > 0;
  const total = totals.get(node.id);
  return (
    <li role="treeitem" aria-expanded={hasChildren ? open : undefined} aria-selected={props.selectedId === node.id} data-node-id={node.id}>
      <div className={`tree-row${props.selectedId === node.id ? ' selected' : ''}`}>
        {hasChildren ? (
          <button
            type="button"
            className="tree-toggle"
            aria-label={t(open ? 'tree.collapse' : 'tree.expand', { name: node.name })}
            onClick={() => props.onToggle(node.id)}
          >
            {open ? '▾' : '▸'}
          </button>
        ) : (
          <span className="tree-toggle" aria-hidden="true" />
        )}
        <span className="tree-label">
          <button type="button" className="tree-name btn-link" onClick={() => props.onSelect(node.id)}>
            {node.name}
          </button>
          <span className="tag">{props.kindLabel(node.kind)}</span>
          {node.manual && <span className="tag tag-manual">{t('tree.manual')}</span>}
        </span>
        <span className="tree-total" data-testid="node-total">
          {total === undefined ? '…' : Number.isFinite(total) ? `${formatNumber(total, 1)} kWh` : '—'}
        </span>
      </div>
      {hasChildren && open && (
        <ul role="group">
          {node.children.map((c) => (
            <TreeItem key={c.id} {...props} node={c} />
          ))}
        </ul>
      )}
    </li>
  );
}

type Run = (action: () => Promise<unknown>, done: MessageKey) => Promise<void>;

function NodeDetails(props: {
  node: TreeNode;
  flat: { node: TreeNode; depth: number }[];
  meters: Meter[] | null;
  total: number | undefined;
  engineer: boolean;
  operator: boolean;
  kindLabel: (k: NodeKind) => string;
  run: Run;
  onDeleted: () => void;
}) {
  const t = useT();
  const { node, flat, run } = props;
  const [name, setName] = useState(node.name);
  const inside = useMemo(() => subtreeIds(node), [node]);
  const parents = flat.filter((f) => !isLeaf(f.node.kind) && !inside.has(f.node.id));
  const [parent, setParent] = useState(node.parent_id === null ? '' : String(node.parent_id));
  const [device, setDevice] = useState(node.device_id === null ? '' : String(node.device_id));
  const [terms, setTerms] = useState<VirtualTerm[]>(node.terms);
  const [recursive, setRecursive] = useState(false);
  const nameOf = (id: number) => flat.find((f) => f.node.id === id)?.node.name ?? `#${id}`;

  return (
    <div className="card pad section" data-testid="node-details">
      <h2>{node.name}</h2>
      <p className="muted small">
        {props.kindLabel(node.kind)}
        {node.manual && ` · ${t('tree.manualShort')}`}
        {node.meter && !node.manual && ` · ${t('tree.linkedMeter')}: ${node.meter.name}`}
        {node.energy_signal && ` · ${t('tree.energySignal')}: ${signalLabel(node.energy_signal.name)} (${node.energy_signal.unit})`}
        {props.total !== undefined && Number.isFinite(props.total) && ` · ${formatNumber(props.total, 1)} kWh`}
      </p>
      {node.kind === 'meter' && !node.energy_signal && <p className="small stale-text">{t('tree.noEnergySignal')}</p>}
      {node.signals.length > 0 && node.device_id !== null && (
        <details className="small section">
          <summary>{t('tree.signals', { n: node.signals.length })}</summary>
          <ul>
            {node.signals.map((sig) => (
              <li key={sig.id}>
                <a href={meterHref(node.device_id ?? 0, { signal: sig.name })}>{signalLabel(sig.name)}</a> ({sig.unit})
              </li>
            ))}
          </ul>
        </details>
      )}
      {node.kind === 'virtual_meter' && !props.engineer && (
        <ul className="small">
          {node.terms.map((term) => (
            <li key={term.node_id}>
              {term.sign > 0 ? '+' : '−'} {nameOf(term.node_id)}
            </li>
          ))}
        </ul>
      )}

      {props.engineer && (
        <>
          <form
            className="inline-form"
            onSubmit={(e: FormEvent) => {
              e.preventDefault();
              void run(() => api.updateNode(node.id, { name: name.trim() }), 'tree.renamed');
            }}
          >
            <label className="field">
              <span>{t('tree.name')}</span>
              <input aria-label={t('tree.name')} value={name} onChange={(e) => setName(e.target.value)} maxLength={100} />
            </label>
            <button type="submit" className="btn" disabled={!name.trim() || name.trim() === node.name}>
              {t('tree.rename')}
            </button>
          </form>
          <form
            className="inline-form"
            onSubmit={(e: FormEvent) => {
              e.preventDefault();
              void run(() => api.updateNode(node.id, { parent_id: parent === '' ? null : Number(parent) }), 'tree.moved');
            }}
          >
            <label className="field">
              <span>{t('tree.newParent')}</span>
              <select aria-label={t('tree.newParent')} className="select" value={parent} onChange={(e) => setParent(e.target.value)}>
                <option value="">{t('tree.root')}</option>
                {parents.map((f) => (
                  <option key={f.node.id} value={f.node.id}>
                    {'\u00a0\u00a0'.repeat(f.depth) + f.node.name}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" className="btn" disabled={parent === (node.parent_id === null ? '' : String(node.parent_id))}>
              {t('tree.move')}
            </button>
          </form>
          {node.kind === 'meter' && !node.manual && (
            <form
              className="inline-form"
              onSubmit={(e: FormEvent) => {
                e.preventDefault();
                void run(() => api.updateNode(node.id, { device_id: Number(device) }), 'tree.linked');
              }}
            >
              <label className="field">
                <span>{t('tree.meter')}</span>
                <select aria-label={t('tree.meter')} className="select" value={device} onChange={(e) => setDevice(e.target.value)}>
                  {(props.meters ?? [])
                    .filter((m) => m.connector !== '' || m.id === node.device_id)
                    .map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.name}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit" className="btn" disabled={!device || device === String(node.device_id)}>
                {t('tree.linkMeter')}
              </button>
            </form>
          )}
          {node.kind === 'virtual_meter' && (
            <TermsEditor node={node} flat={flat} terms={terms} setTerms={setTerms} onSave={() => void run(() => api.updateNode(node.id, { terms }), 'tree.termsSaved')} />
          )}
          <div className="inline-form">
            {node.children.length > 0 && (
              <label className="check">
                <input type="checkbox" checked={recursive} onChange={(e) => setRecursive(e.target.checked)} />
                {t('tree.deleteRecursive')}
              </label>
            )}
            <button
              type="button"
              className="btn btn-danger"
              onClick={() => {
                if (!window.confirm(t('tree.confirmDelete', { name: node.name }))) return;
                void run(async () => {
                  await api.deleteNode(node.id, recursive);
                  props.onDeleted();
                }, 'tree.deleted');
              }}
            >
              {t('tree.delete')}
            </button>
          </div>
        </>
      )}
      {node.kind === 'meter' && node.manual && <Readings node={node} operator={props.operator} run={run} />}
    </div>
  );
}

function TermsEditor(props: {
  node: TreeNode;
  flat: { node: TreeNode; depth: number }[];
  terms: VirtualTerm[];
  setTerms: (t: VirtualTerm[]) => void;
  onSave: () => void;
}) {
  const t = useT();
  const { terms, setTerms } = props;
  const candidates = props.flat.filter((f) => f.node.id !== props.node.id);
  const unused = candidates.filter((f) => !terms.some((x) => x.node_id === f.node.id));
  return (
    <fieldset className="terms" data-testid="virtual-terms">
      <legend>{t('tree.terms')}</legend>
      {terms.length === 0 && <p className="muted small">{t('tree.noTerms')}</p>}
      {terms.map((term, i) => (
        <div className="term-row" key={term.node_id}>
          <select
            className="select term-sign"
            aria-label={t('tree.sign')}
            value={term.sign}
            onChange={(e) => setTerms(terms.map((x, j) => (j === i ? { ...x, sign: Number(e.target.value) === -1 ? -1 : 1 } : x)))}
          >
            <option value={1}>+</option>
            <option value={-1}>−</option>
          </select>
          <select
            className="select"
            aria-label={t('tree.member')}
            value={term.node_id}
            onChange={(e) => setTerms(terms.map((x, j) => (j === i ? { ...x, node_id: Number(e.target.value) } : x)))}
          >
            {candidates
              .filter((f) => f.node.id === term.node_id || unused.includes(f))
              .map((f) => (
                <option key={f.node.id} value={f.node.id}>
                  {f.node.name}
                </option>
              ))}
          </select>
          <button type="button" className="btn btn-small" onClick={() => setTerms(terms.filter((_, j) => j !== i))}>
            {t('common.remove')}
          </button>
        </div>
      ))}
      <div className="term-actions">
        <button type="button" className="btn" disabled={unused.length === 0} onClick={() => setTerms([...terms, { node_id: unused[0].node.id, sign: 1 }])}>
          {t('tree.addTerm')}
        </button>
        <button type="button" className="btn btn-primary" onClick={props.onSave}>
          {t('tree.saveTerms')}
        </button>
      </div>
    </fieldset>
  );
}

function Readings({ node, operator, run }: { node: TreeNode; operator: boolean; run: Run }) {
  const t = useT();
  const [list, setList] = useState<Reading[] | null>(null);
  const [when, setWhen] = useState(() => toLocalInput(Date.now()));
  const [value, setValue] = useState('');
  const load = useCallback(() => {
    api.readings(node.id).then(setList, () => setList([]));
  }, [node.id]);
  useEffect(load, [load]);
  const parsed = parseDecimal(value);
  const ts = new Date(when).getTime();

  return (
    <div className="section" data-testid="manual-readings">
      <h2>{t('tree.readings')}</h2>
      {operator && (
        <form
          className="inline-form"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void run(async () => {
              await api.addReading(node.id, ts, parsed);
              setValue('');
              load();
            }, 'tree.readingSaved');
          }}
        >
          <label className="field">
            <span>{t('tree.readingTime')}</span>
            <input aria-label={t('tree.readingTime')} type="datetime-local" value={when} max={toLocalInput(Date.now())} onChange={(e) => setWhen(e.target.value)} />
          </label>
          <label className="field">
            <span>{t('tree.readingValue')}</span>
            <input aria-label={t('tree.readingValue')} inputMode="decimal" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" />
          </label>
          <button type="submit" className="btn btn-primary" disabled={!Number.isFinite(parsed) || !Number.isFinite(ts)}>
            {t('tree.enterReading')}
          </button>
        </form>
      )}
      <div className="table-wrap">
        <table className="table readings-table" aria-label={t('tree.readings')}>
          <thead>
            <tr>
              <th>{t('tree.colTime')}</th>
              <th className="num">{t('tree.colValue')}</th>
              <th>{t('tree.quality')}</th>
            </tr>
          </thead>
          <tbody>
            {list?.length === 0 && (
              <tr>
                <td colSpan={3} className="center muted">
                  {t('tree.noReadings')}
                </td>
              </tr>
            )}
            {[...(list ?? [])].reverse().map((r) => (
              <tr key={r.ts_ms}>
                <td>{formatFullTs(r.ts_ms)}</td>
                <td className="num">{formatNumber(r.value, 2)}</td>
                <td>{r.quality === 'manual' ? <span className="tag tag-manual">{t('tree.manual')}</span> : t(`tree.quality.${r.quality}` as MessageKey)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function AddNodeForm(props: {
  flat: { node: TreeNode; depth: number }[];
  meters: Meter[] | null;
  parentId: number | null;
  kindLabel: (k: NodeKind) => string;
  run: Run;
}) {
  const t = useT();
  const [kind, setKind] = useState<NodeKind>('site');
  const [name, setName] = useState('');
  const [parent, setParent] = useState(props.parentId === null ? '' : String(props.parentId));
  const [link, setLink] = useState('manual');
  useEffect(() => setParent(props.parentId === null ? '' : String(props.parentId)), [props.parentId]);
  const parents = props.flat.filter((f) => !isLeaf(f.node.kind));
  const linked = new Set(props.flat.map((f) => f.node.device_id).filter((d) => d !== null));
  const free = (props.meters ?? []).filter((m) => !linked.has(m.id) && m.connector !== '');

  return (
    <form
      className="card pad section form"
      data-testid="add-node"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        const body = {
          parent_id: parent === '' ? null : Number(parent),
          kind,
          name: name.trim(),
          ...(kind === 'meter' ? (link === 'manual' ? { manual: true } : { device_id: Number(link) }) : {}),
        };
        void props.run(async () => {
          await api.createNode(body);
          setName('');
        }, 'tree.added');
      }}
    >
      <h2>{t('tree.addNode')}</h2>
      <div className="form-grid">
        <label className="field">
          <span>{t('tree.kind')}</span>
          <select aria-label={t('tree.kind')} className="select" value={kind} onChange={(e) => setKind(e.target.value as NodeKind)}>
            {NODE_KINDS.map((k) => (
              <option key={k} value={k}>
                {props.kindLabel(k)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t('tree.name')}</span>
          <input aria-label={t('tree.name')} value={name} onChange={(e) => setName(e.target.value)} maxLength={100} />
        </label>
        <label className="field">
          <span>{t('tree.parent')}</span>
          <select aria-label={t('tree.parent')} className="select" value={parent} onChange={(e) => setParent(e.target.value)}>
            <option value="">{t('tree.root')}</option>
            {parents.map((f) => (
              <option key={f.node.id} value={f.node.id}>
                {'\u00a0\u00a0'.repeat(f.depth) + f.node.name}
              </option>
            ))}
          </select>
        </label>
        {kind === 'meter' && (
          <label className="field">
            <span>{t('tree.meter')}</span>
            <select aria-label={t('tree.meter')} className="select" value={link} onChange={(e) => setLink(e.target.value)}>
              <option value="manual">{t('tree.manualMeter')}</option>
              {free.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {kind === 'virtual_meter' && <p className="muted small">{t('tree.termsLater')}</p>}
      <button type="submit" className="btn btn-primary" disabled={!name.trim()}>
        {t('tree.add')}
      </button>
    </form>
  );
}
