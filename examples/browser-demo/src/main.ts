/**
 * The page: loads the model and its manifest, then ranks the demo's candidate ads for the profile
 * in the form, again on every change. Everything runs in the browser — the features encoder the
 * server uses, onnxruntime-web (WebGPU when the browser has an adapter, else WASM, multi-threaded
 * when the page is cross-origin isolated), the manifest's calibrator, a GSP auction and occlusion
 * explanations.
 *
 * For tests, the page marks its state on `<body data-state>` (`loading`, `ready`, `error`), counts
 * rankings in `data-run`, writes each ad's full-precision pCTR in `data-pctr`, and exposes the
 * current profile and request as `window.ctrkitDemo`.
 */
import { createAuction } from '@ctrkit/auction';
import type { AdRequest, FactorDescriber } from '@ctrkit/core';
import { createFactorDescriber, createFeatureEncoder } from '@ctrkit/features';
import { loadModel, registerWebBackends } from '@ctrkit/models/browser';
import { rank, type Ranker, type Ranking } from './rank.js';
import {
  AUCTION_OPTIONS,
  buildRequest,
  CATEGORIES,
  COUNTRIES,
  createDemoWorld,
  DEFAULT_PROFILE,
  DEVICES,
  OS_BY_DEVICE,
  SPEC,
  UNPHRASED_FIELDS,
  type DemoProfile,
  type DemoWorld,
} from './scenario.js';
import './style.css';

declare global {
  interface Window {
    /** What the page is ranking, for tests and curious readers of the console. */
    ctrkitDemo?: { profile: DemoProfile; request: AdRequest; ranking: Ranking | undefined };
  }
}

const $ = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from index.html`);
  return element as T;
};

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
};

const ms = (value: number): string => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
const money = (value: number): string => value.toFixed(2);
const shorten = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

// ---------------------------------------------------------------------------- the form

function options(select: HTMLSelectElement, values: readonly { value: string; label: string }[], selected: string): void {
  select.replaceChildren(...values.map(({ value, label }) => el('option', value === selected ? { value, selected: '' } : { value }, label)));
}

function checkboxes(container: HTMLElement, name: string, checked: readonly string[]): void {
  container.replaceChildren(
    ...CATEGORIES.map((category) =>
      el('label', { class: 'check' }, el('input', { type: 'checkbox', name, value: category, ...(checked.includes(category) ? { checked: '' } : {}) }), category),
    ),
  );
}

function fillForm(world: DemoWorld, profile: DemoProfile): void {
  $<HTMLInputElement>('age').value = String(profile.age);
  $('age-value').textContent = String(profile.age);
  options($<HTMLSelectElement>('gender'), ['female', 'male', 'other'].map((v) => ({ value: v, label: v })), profile.gender);
  options($<HTMLSelectElement>('country'), COUNTRIES.map((v) => ({ value: v, label: v })), profile.country);
  options($<HTMLSelectElement>('device'), DEVICES.map((v) => ({ value: v, label: v })), profile.device);
  options($<HTMLSelectElement>('os'), (OS_BY_DEVICE[profile.device] ?? []).map((v) => ({ value: v, label: v })), profile.os);
  options($<HTMLSelectElement>('publisher'), world.publishers.map((p) => ({ value: p.id, label: `${p.domain} (${p.pageCategory})` })), profile.publisherId);
  $<HTMLInputElement>('hour').value = String(profile.hour);
  $('hour-value').textContent = `${String(profile.hour).padStart(2, '0')}:00`;
  checkboxes($('interests'), 'interests', profile.interests);
  checkboxes($('recent'), 'recent', profile.recentClicks);
}

function readForm(): DemoProfile {
  const checked = (name: string) => [...document.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map((input) => input.value);
  const device = $<HTMLSelectElement>('device').value as DemoProfile['device'];
  const osChoices = OS_BY_DEVICE[device] ?? [];
  const os = $<HTMLSelectElement>('os').value;
  return {
    age: Number($<HTMLInputElement>('age').value),
    gender: $<HTMLSelectElement>('gender').value as DemoProfile['gender'],
    country: $<HTMLSelectElement>('country').value,
    device,
    os: osChoices.includes(os) ? os : (osChoices[0] ?? os),
    interests: checked('interests'),
    recentClicks: checked('recent'),
    hour: Number($<HTMLInputElement>('hour').value),
    publisherId: $<HTMLSelectElement>('publisher').value,
  };
}

// ---------------------------------------------------------------------------- rendering

function renderRanking(ranking: Ranking): void {
  const rows = ranking.ads.map((ad, position) => {
    const { candidate } = ad;
    const outcome = ad.winner
      ? el('span', { class: 'won' }, `slot ${ad.winner.position + 1} · pays ${money(ad.winner.price)} ${candidate.bidType === 'CPM' ? 'CPM' : `per ${candidate.bidType === 'CPC' ? 'click' : 'action'}`} (${money(ad.winner.priceCpm)} CPM)`)
      : el('span', { class: 'lost' }, ad.rejection ? ad.rejection.reason.replace(/_/g, ' ') : 'not ranked');
    const factors = ad.factors.length === 0 ? el('span', { class: 'muted' }, '—') : el('ul', { class: 'factors' }, ...ad.factors.map((f) => el('li', {}, f)));
    return el(
      'tr',
      {
        'data-ad-id': candidate.adId,
        'data-rank': String(position + 1),
        'data-pctr': String(ad.pCtr),
        'data-raw-pctr': String(ad.rawPCtr),
        class: ad.winner ? 'winner' : '',
      },
      el('td', { class: 'num' }, String(position + 1)),
      el('td', {}, el('strong', {}, candidate.category), el('div', { class: 'muted' }, `${candidate.adId} · ${candidate.format} · ${candidate.advertiserId}`)),
      el('td', { class: 'num' }, `${money(candidate.bid)} ${candidate.bidType}`),
      el('td', { class: 'num pctr' }, `${(100 * ad.pCtr).toFixed(3)}%`, el('div', { class: 'bar', style: `width:${Math.min(100, ad.pCtr * 1000).toFixed(1)}%` })),
      el('td', { class: 'num' }, money(ad.ecpm)),
      el('td', {}, outcome),
      el('td', {}, factors),
    );
  });
  $('ads').replaceChildren(...rows);
  const t = ranking.timings;
  $('timings').replaceChildren(
    ...(
      [
        ['encode', t.encode, `${ranking.request.candidates.length} rows`],
        ['predict', t.predict, 'onnxruntime'],
        ['calibrate', t.calibrate, ''],
        ['auction', t.auction, 'GSP, 3 slots'],
        ['explain', t.explain, `occlusion, ${ranking.request.candidates.length} × 1 call`],
        ['total', t.total, ''],
      ] as const
    ).map(([step, value, note]) => el('tr', { 'data-step': step }, el('th', {}, step), el('td', { class: 'num' }, ms(value)), el('td', { class: 'muted' }, note))),
  );
  const winners = ranking.result.winners;
  $('auction').textContent =
    winners.length === 0
      ? 'No ad cleared the reserve.'
      : `${winners.length} winner${winners.length === 1 ? '' : 's'}: ${winners.map((w) => `${w.adId} in slot ${w.position + 1} at ${money(w.priceCpm)} CPM`).join('; ')}. Revenue ${money(winners.reduce((s, w) => s + w.priceCpm, 0) / 1000)} per page view.`;
}

// ---------------------------------------------------------------------------- start

async function start(): Promise<void> {
  document.body.dataset.state = 'loading';
  const loadStarted = performance.now();
  const world = createDemoWorld();
  const encoder = createFeatureEncoder(SPEC);
  const phrase = createFactorDescriber(SPEC);
  const describe: FactorDescriber = (field, request, i) => (UNPHRASED_FIELDS.has(field) ? undefined : phrase(field, request, i));
  const auction = createAuction(AUCTION_OPTIONS);
  // Threads need SharedArrayBuffer, which only a cross-origin-isolated page has (the dev and
  // preview servers send COOP/COEP headers).
  const threads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  // onnxruntime-web's wasm files are served by this page (vite.config.ts), not by a CDN.
  registerWebBackends(undefined, { wasmPaths: new URL('ort/', document.baseURI).href, numThreads: threads });
  const model = await loadModel(new URL('model/', document.baseURI).href, { expect: encoder.layout });
  const loadMs = performance.now() - loadStarted;
  const info = model.runner.info;
  const hasWebGpu = 'gpu' in navigator;
  $('backend').textContent = `${info.backend} · ${info.provider}${info.provider === 'wasm' ? ` · ${threads} thread${threads === 1 ? '' : 's'}` : ''}`;
  $('backend').dataset.backend = info.backend;
  $('backend').dataset.provider = info.provider;
  $('isolation').textContent = globalThis.crossOriginIsolated ? 'cross-origin isolated (threads available)' : 'not cross-origin isolated (one thread)';
  $('skipped').textContent =
    model.skipped.length === 0 ? (hasWebGpu ? 'none' : 'none (this browser has no WebGPU)') : model.skipped.map((s) => shorten(s.replace(/\s+/g, ' '), 140)).join(' | ');
  $('model').textContent = `${model.manifest.architecture} ${model.manifest.version}, calibration ${model.calibrator.kind}, spec ${model.manifest.fingerprint}`;
  const auc = model.manifest.metrics?.validAuc;
  $('model-quality').textContent = auc === undefined ? '' : `held-out AUC ${auc.toFixed(3)}`;
  $('load-ms').textContent = ms(loadMs);
  const ranker: Ranker = { encoder, runner: model.runner, calibrator: model.calibrator, auction, describe };

  fillForm(world, DEFAULT_PROFILE);
  let runs = 0;
  let running = false;
  let again = false;
  const refresh = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const profile = readForm();
        const request = buildRequest(world, profile);
        window.ctrkitDemo = { profile, request, ranking: undefined };
        const ranking = await rank(ranker, request);
        window.ctrkitDemo = { profile, request, ranking };
        renderRanking(ranking);
        document.body.dataset.run = String(++runs);
      } while (again);
      document.body.dataset.state = 'ready';
    } catch (error) {
      fail(error);
    } finally {
      running = false;
    }
  };
  const form = $<HTMLFormElement>('profile');
  form.addEventListener('input', (event) => {
    const target = event.target as HTMLElement;
    if (target.id === 'device') {
      const device = $<HTMLSelectElement>('device').value;
      const choices = OS_BY_DEVICE[device] ?? [];
      options($<HTMLSelectElement>('os'), choices.map((v) => ({ value: v, label: v })), choices[0] ?? '');
    }
    $('age-value').textContent = $<HTMLInputElement>('age').value;
    $('hour-value').textContent = `${$<HTMLInputElement>('hour').value.padStart(2, '0')}:00`;
    document.body.dataset.state = 'ranking';
    void refresh();
  });
  form.addEventListener('submit', (event) => event.preventDefault());
  await refresh();
}

function fail(error: unknown): void {
  document.body.dataset.state = 'error';
  const message = error instanceof Error ? `${error.message}${'code' in error ? ` (${String(error.code)})` : ''}` : String(error);
  $('error').textContent = message;
  $('error').hidden = false;
  console.error(error);
}

start().catch(fail);
