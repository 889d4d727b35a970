/**
 * The ad server's synthetic world: the creatives it bids with, their campaigns' budgets, and
 * OpenRTB 2.6 bid requests shaped like the traffic the model was trained on. Everything comes
 * from `@ctrkit/core/sim` with a fixed seed — no real data. A real deployment replaces
 * {@link createWorld} with its own catalog and budgets; the server only needs the creatives
 * and the budget lines.
 */
import type { BidderCreative } from '@ctrkit/auction';
import { createTrafficGenerator, SIM_CATEGORY_IAB, type SimImpression, type SimRequest, type TrafficGenerator } from '@ctrkit/core/sim';
import type { AdEvent, AdRequest } from '@ctrkit/core';
import type { CampaignBudget } from '@ctrkit/pacing';

/** Seed of the world the server, the training script, the tests and the load test share. */
export const WORLD_SEED = 'ad-server';

/**
 * 50 advertisers × 2 campaigns × 5 ads, formats cycling: exactly one display, one video and one
 * native creative per campaign, so the catalog holds 100 of each and every banner, video or
 * native request scores the 100 of its format.
 */
export const WORLD_OPTIONS = { seed: WORLD_SEED, users: 20_000, advertisers: 50, campaignsPerAdvertiser: 2, adsPerCampaign: 5, publishers: 60, candidatesPerRequest: 100, slotsPerRequest: 2 } as const;

/** Banner size of every creative and impression. */
export const BANNER = { w: 300, h: 250 } as const;

/** What the video creatives are and what a generated video impression accepts (OpenRTB `imp.video`). */
export const VIDEO = { w: 640, h: 360, mimes: ['video/mp4', 'video/webm'], minduration: 5, maxduration: 30, protocols: [2, 3, 5, 6, 7, 8] } as const;

/** VAST 4.0 (OpenRTB protocol 7): the version of every video creative's `adm`. */
export const VAST_4_0 = 7;

/**
 * The Native 1.2 request of a generated native impression: a title, a main image and the
 * advertiser's name required; a description and an icon welcome; image-pixel impression trackers.
 */
export const NATIVE_REQUEST = {
  ver: '1.2',
  context: 1,
  plcmttype: 1,
  assets: [
    { id: 1, required: 1, title: { len: 90 } },
    { id: 2, required: 1, img: { type: 3, wmin: 600, hmin: 314 } },
    { id: 3, required: 1, data: { type: 1, len: 40 } },
    { id: 4, required: 0, data: { type: 2, len: 140 } },
    { id: 5, required: 0, img: { type: 1, wmin: 50, hmin: 50 } },
  ],
  eventtrackers: [{ event: 1, methods: [1] }],
} as const;

/** Floor of every generated impression, CPM in USD. */
export const FLOOR_CPM = 0.5;

/** The server's view of the world. */
export interface World {
  /** The generator (users, publishers, ads, true click probabilities). */
  readonly generator: TrafficGenerator;
  /** The creatives the bidder bids with: display, then video, then native (one of each per campaign, each part sorted by ad id). */
  readonly catalog: readonly BidderCreative[];
  /** The campaigns' daily budgets (the sim's budgets × `budgetScale`). */
  readonly budgets: readonly CampaignBudget[];
  /** Creative by ad id. */
  readonly creativeById: ReadonlyMap<string, BidderCreative>;
}

/** Options of {@link createWorld}. */
export interface WorldOptions {
  /** Multiplies every campaign's daily budget (default 1). */
  readonly budgetScale?: number;
}

/**
 * Builds the world: the display, video and native creatives (with markup — an HTML banner, a
 * VAST 4.0 document, native assets — domains, IAB categories and the sim's average pCVR for
 * CPA campaigns) and the budget of each of their campaigns.
 *
 * @param options - Budget scale.
 * @returns The world.
 */
export function createWorld(options: WorldOptions = {}): World {
  const budgetScale = options.budgetScale ?? 1;
  if (!(budgetScale > 0) || !Number.isFinite(budgetScale)) throw new Error(`budgetScale must be a positive number, got ${budgetScale}`);
  const generator = createTrafficGenerator(WORLD_OPTIONS);
  // One request on a publisher of a format draws every ad of that format (100 candidates, capped
  // by the pool), each as an AdCandidate with its campaign's bid and the sim's average pCVR.
  const formatOf = new Map(generator.publishers.map((p) => [p.id, p.format]));
  const drawn = new Map<string, AdRequest['candidates']>();
  for (const { request } of generator.requests({ count: 400, stream: 'catalog' })) {
    const format = formatOf.get(request.context.publisherId ?? '');
    if ((format === 'display' || format === 'video' || format === 'native') && !drawn.has(format)) drawn.set(format, request.candidates);
    if (drawn.size === 3) break;
  }
  for (const format of ['display', 'video', 'native']) {
    if ((drawn.get(format)?.length ?? 0) === 0) throw new Error(`the synthetic world drew no ${format} request; change WORLD_OPTIONS`);
  }
  const advertisers = new Map(generator.advertisers.map((a) => [a.id, a]));
  // The sim's categories are words (what the model reads); exchanges block by IAB codes (bcat).
  const iab = SIM_CATEGORY_IAB as Readonly<Record<string, string>>;
  const catOf = (category: string): string[] => {
    const code = iab[category];
    if (code === undefined) throw new Error(`sim category ${category} has no IAB code in SIM_CATEGORY_IAB`);
    return [code];
  };
  const sorted = (format: string) => [...(drawn.get(format) ?? [])].sort((a, b) => (a.adId < b.adId ? -1 : 1));
  const base = (c: AdRequest['candidates'][number]) => {
    const domain = advertisers.get(c.advertiserId)?.domain ?? `${c.advertiserId}.example`;
    return { ...c, domain, adomain: [domain], cat: catOf(c.category) };
  };
  const display: BidderCreative[] = sorted('display').map((c) => {
    const b = base(c);
    return { ...b, width: BANNER.w, height: BANNER.h, adm: `<a href="https://${b.domain}/?ad=${c.adId}"><img src="https://cdn.${b.domain}/${c.adId}.png" width="${BANNER.w}" height="${BANNER.h}"></a>` };
  });
  const video: BidderCreative[] = sorted('video').map((c, i) => {
    const b = base(c);
    const duration = i % 2 === 0 ? 15 : 30;
    return { ...b, width: VIDEO.w, height: VIDEO.h, mimes: ['video/mp4'], duration, protocol: VAST_4_0, adm: vast(c.adId, b.domain, duration) };
  });
  const native: BidderCreative[] = sorted('native').map((c) => {
    const b = base(c);
    const brand = b.domain.replace(/\.example$/, '');
    return {
      ...b,
      native: {
        title: `${c.category[0]?.toUpperCase() ?? ''}${c.category.slice(1)} picks from ${brand}`,
        sponsored: brand,
        description: `Hand-picked ${c.category} offers, chosen for you by ${brand}.`,
        cta: 'Learn more',
        clickUrl: `https://${b.domain}/?ad=${c.adId}`,
        image: { url: `https://cdn.${b.domain}/${c.adId}-1200x627.jpg`, w: 1200, h: 627 },
        icon: { url: `https://cdn.${b.domain}/logo-80.png`, w: 80, h: 80 },
      },
    };
  });
  const catalog: BidderCreative[] = [...display, ...video, ...native];
  const campaignIds = new Set(catalog.map((c) => c.campaignId));
  const budgets = generator.campaigns
    .filter((c) => campaignIds.has(c.id))
    .map((c) => ({ id: c.id, dailyBudget: Math.round(c.dailyBudget * budgetScale * 1e6) / 1e6 }));
  return { generator, catalog, budgets, creativeById: new Map(catalog.map((c) => [c.adId, c])) };
}

/** A VAST 4.0 inline linear ad: one progressive MP4, an impression pixel and a click-through. */
function vast(adId: string, domain: string, seconds: number): string {
  const duration = `00:00:${String(seconds).padStart(2, '0')}`;
  return (
    `<VAST version="4.0"><Ad id="${adId}"><InLine><AdSystem>ctrkit example</AdSystem><AdTitle>${adId}</AdTitle>` +
    `<Impression><![CDATA[https://${domain}/imp?ad=${adId}]]></Impression><Creatives><Creative id="${adId}">` +
    `<UniversalAdId idRegistry="ctrkit-example">${adId}</UniversalAdId><Linear><Duration>${duration}</Duration>` +
    `<MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="${VIDEO.w}" height="${VIDEO.h}"><![CDATA[https://cdn.${domain}/${adId}.mp4]]></MediaFile></MediaFiles>` +
    `<VideoClicks><ClickThrough><![CDATA[https://${domain}/?ad=${adId}]]></ClickThrough></VideoClicks></Linear></Creative></Creatives></InLine></Ad></VAST>`
  );
}

/** One impression of a generated request: a banner, a video or a native slot. */
export type SimImp = { id: string; bidfloor: number; bidfloorcur: string; secure: 1 } & (
  | { banner: { w: number; h: number; format: { w: number; h: number }[] } }
  | { video: { mimes: string[]; w: number; h: number; minduration: number; maxduration: number; protocols: number[] } }
  | { native: { request: string; ver: string } }
);

/** The part of an OpenRTB 2.6 BidRequest this example writes (what the bidder reads). */
export interface SimBidRequest {
  id: string;
  imp: SimImp[];
  site: { id: string; domain: string; cat: string[]; page: string; publisher: { id: string } };
  device: { devicetype: number; os: string; geo: { country: string; utcoffset: number }; connectiontype: number; ua: string };
  user: { id: string; yob?: number; gender?: string; kwarray?: string[]; data?: { id: string; segment: { id: string }[] }[] };
  at: number;
  tmax: number;
  cur: string[];
  regs: { gdpr: 0 | 1; us_privacy: string };
}

const DEVICE_TYPES: Readonly<Record<string, number>> = { mobile: 4, desktop: 2, tablet: 5, ctv: 3, other: 6 };
const CONNECTION_TYPES: Readonly<Record<string, number>> = { ethernet: 1, wifi: 2, cellular: 3 };

/** Options of {@link toBidRequest}. */
export interface BidRequestOptions {
  /** Request id (default the sim request's id). */
  readonly id?: string;
  /** Impressions (default 1, most prominent first). */
  readonly imps?: number;
  /** What the impressions are (default `banner`; `video`: {@link VIDEO}, `native`: {@link NATIVE_REQUEST}). */
  readonly media?: 'banner' | 'video' | 'native';
  /** Floor of each impression, CPM (default {@link FLOOR_CPM}). */
  readonly bidfloor?: number;
  /** `tmax`, ms (default 100). */
  readonly tmax?: number;
}

/**
 * Writes a sim request (its user and page) as an OpenRTB 2.6 BidRequest with banner (or video, or
 * native) impressions:
 * what an exchange would send for that page view. The candidates are not part of it — the bidder
 * brings its own catalog.
 *
 * @param request - The sim's request (user profile and context).
 * @param options - Id, impressions, floor, tmax.
 * @returns A BidRequest object (JSON-serializable).
 */
export function toBidRequest(request: AdRequest, options: BidRequestOptions = {}): SimBidRequest {
  const { user, context } = request;
  const imps = options.imps ?? 1;
  const year = new Date(context.timestamp).getUTCFullYear();
  const body: SimBidRequest = {
    id: options.id ?? request.requestId,
    imp: Array.from({ length: imps }, (_, i): SimImp => {
      const common = { id: String(i + 1), bidfloor: options.bidfloor ?? FLOOR_CPM, bidfloorcur: 'USD', secure: 1 as const };
      const media = options.media ?? 'banner';
      if (media === 'video') return { ...common, video: { mimes: [...VIDEO.mimes], w: VIDEO.w, h: VIDEO.h, minduration: VIDEO.minduration, maxduration: VIDEO.maxduration, protocols: [...VIDEO.protocols] } };
      if (media === 'native') return { ...common, native: { request: JSON.stringify(NATIVE_REQUEST), ver: '1.2' } };
      return { ...common, banner: { w: BANNER.w, h: BANNER.h, format: [{ w: BANNER.w, h: BANNER.h }] } };
    }),
    site: {
      id: context.publisherId ?? 'site',
      domain: context.domain ?? 'site.example',
      cat: context.pageCategory === undefined ? [] : [context.pageCategory],
      page: `https://${context.domain ?? 'site.example'}/`,
      publisher: { id: context.publisherId ?? 'pub' },
    },
    device: {
      devicetype: DEVICE_TYPES[user.device ?? 'other'] ?? 6,
      os: user.os ?? 'other',
      geo: { country: user.country ?? 'US', utcoffset: context.timezoneOffsetMinutes ?? 0 },
      connectiontype: CONNECTION_TYPES[context.connection ?? 'wifi'] ?? 0,
      ua: 'Mozilla/5.0 (ctrkit sim)',
    },
    user: { id: user.id },
    at: 1,
    tmax: options.tmax ?? 100,
    cur: ['USD'],
    regs: { gdpr: 0, us_privacy: '1YNN' },
  };
  if (user.age !== undefined) body.user.yob = year - user.age;
  if (user.gender === 'male' || user.gender === 'female') body.user.gender = user.gender === 'male' ? 'M' : 'F';
  if (user.interests !== undefined && user.interests.length > 0) body.user.kwarray = [...user.interests];
  if (user.segments !== undefined && user.segments.length > 0) body.user.data = [{ id: 'ctrkit-sim', segment: user.segments.map((id) => ({ id })) }];
  return body;
}

/**
 * Page views of the world as OpenRTB bid requests: on display publishers with banner
 * impressions (the default), on video publishers with video ones, on native publishers with
 * native ones (`media`).
 *
 * @param world - The world.
 * @param count - How many.
 * @param options - Stream label, impressions, media, floor, tmax.
 * @returns `count` requests with the sim requests they came from.
 */
export function bidRequests(world: World, count: number, options: BidRequestOptions & { readonly stream?: string } = {}): { bid: SimBidRequest; sim: SimRequest }[] {
  const out: { bid: SimBidRequest; sim: SimRequest }[] = [];
  const format = options.media === 'video' ? 'video' : options.media === 'native' ? 'native' : 'display';
  const publishers = new Set(world.generator.publishers.filter((p) => p.format === format).map((p) => p.id));
  let drawn = 0;
  // About one page view in five is on a publisher of each format: draw in rounds until there are enough.
  for (let round = 0; out.length < count && round < 50; round++) {
    const batch = Math.max(100, (count - out.length) * 6);
    for (const sim of world.generator.requests({ count: batch, stream: `${options.stream ?? 'load'}:${round}` })) {
      drawn++;
      if (!publishers.has(sim.request.context.publisherId ?? '')) continue;
      out.push({ bid: toBidRequest(sim.request, { ...options, id: `${options.stream ?? 'load'}-${out.length}` }), sim });
      if (out.length === count) break;
    }
  }
  if (out.length < count) throw new Error(`drew ${drawn} page views but only ${out.length} were on ${format} publishers`);
  return out;
}

/**
 * The impression event (and the click, when there was one) of a shown display impression.
 *
 * @param impression - The sim's impression.
 * @param requestId - The request id the server bid on.
 * @returns Events in time order.
 */
export function eventsOfImpression(impression: SimImpression, requestId: string): AdEvent[] {
  const candidate = impression.request.candidates[0];
  if (candidate === undefined) return [];
  const base = {
    requestId,
    userId: impression.request.user.id,
    adId: candidate.adId,
    campaignId: candidate.campaignId,
    advertiserId: candidate.advertiserId,
    category: candidate.category,
    format: candidate.format,
    position: impression.position,
  };
  const t = impression.request.context.timestamp;
  const events: AdEvent[] = [{ ...base, type: 'impression', eventId: `${requestId}:i`, timestamp: t }];
  if (impression.clicked) events.push({ ...base, type: 'click', eventId: `${requestId}:c`, timestamp: t + 5_000 });
  return events;
}
