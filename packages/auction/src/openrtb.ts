/**
 * OpenRTB 2.6 requests: a validator written for this package (the `iab-openrtb` package gives
 * types only) and the mapping of a valid BidRequest to core's `AdRequest`.
 */
import type { AdFormat, AdRequest, AdSlot, DeviceType, RequestContext, UserProfile } from '@ctrkit/core';
import type { BidRequest, Imp } from 'iab-openrtb/v26';
import { describe, isRecord } from './checks.js';
import { toAlpha2 } from './countries.js';

/** One problem found in a BidRequest.
 *
 * @example
 * ```ts
 * import type { ValidationIssue } from '@ctrkit/auction';
 * const issue: ValidationIssue = { path: 'imp[0].bidfloor', message: 'must be a finite number ≥ 0, got -1' };
 * ```
 */
export interface ValidationIssue {
  /** Where, as a path from the request root (`imp[2].banner.w`). */
  readonly path: string;
  /** What is wrong and what is expected. */
  readonly message: string;
}

/** The outcome of {@link validateBidRequest}.
 *
 * @example
 * ```ts
 * import { validateBidRequest } from '@ctrkit/auction';
 * const result = validateBidRequest({ id: '1', imp: [{ id: '1', banner: { w: 300, h: 250 } }] });
 * if (result.ok) console.log(result.request.imp.length, result.impIssues.length); // 1 0
 * ```
 */
export type BidRequestValidation =
  | {
      /** The request is usable. */
      readonly ok: true;
      /** The request, typed (the same object that was passed in). */
      readonly request: BidRequest;
      /** Impressions that cannot be bid on and why (the others can). */
      readonly impIssues: readonly ValidationIssue[];
    }
  | {
      /** The request is not usable. */
      readonly ok: false;
      /** Everything wrong with it. */
      readonly issues: readonly ValidationIssue[];
    };

type Check = (value: unknown, path: string, issues: ValidationIssue[]) => void;

const fail = (issues: ValidationIssue[], path: string, message: string) => issues.push({ path, message });

const string: Check = (v, p, issues) => {
  if (typeof v !== 'string') fail(issues, p, `must be a string, got ${describe(v)}`);
};
const flag: Check = (v, p, issues) => {
  if (v !== 0 && v !== 1) fail(issues, p, `must be 0 or 1, got ${describe(v)}`);
};
const integer = (min = -Infinity, max = Infinity): Check => (v, p, issues) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(issues, p, `must be an integer${min > -Infinity ? ` ≥ ${min}` : ''}${max < Infinity ? ` ≤ ${max}` : ''}, got ${describe(v)}`);
};
const number = (min = -Infinity, max = Infinity, exclusiveMin = false): Check => (v, p, issues) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (exclusiveMin && v === min)) {
    fail(issues, p, `must be a finite number ${exclusiveMin ? '>' : '≥'} ${min}${max < Infinity ? ` and ≤ ${max}` : ''}, got ${describe(v)}`);
  }
};
const currency: Check = (v, p, issues) => {
  if (typeof v !== 'string' || !/^[A-Za-z]{3}$/.test(v)) fail(issues, p, `must be an ISO-4217 currency code such as "USD", got ${describe(v)}`);
};
const arrayOf = (item: Check): Check => (v, p, issues) => {
  if (!Array.isArray(v)) {
    fail(issues, p, `must be an array, got ${describe(v)}`);
    return;
  }
  v.forEach((element, i) => item(element, `${p}[${i}]`, issues));
};
const object = (fields: Readonly<Record<string, Check>>, required: readonly string[] = []): Check => (v, p, issues) => {
  if (!isRecord(v)) {
    fail(issues, p, `must be an object, got ${describe(v)}`);
    return;
  }
  for (const key of required) if (v[key] === undefined) fail(issues, `${p}.${key}`, 'is required');
  // Unknown fields are ignored: OpenRTB requires bidders to tolerate fields they do not know.
  for (const key in fields) {
    const value = v[key];
    if (value !== undefined) (fields[key] as Check)(value, `${p}.${key}`, issues);
  }
};
const nonEmptyString: Check = (v, p, issues) => {
  if (typeof v !== 'string' || v.length === 0) fail(issues, p, `must be a non-empty string, got ${describe(v)}`);
};

const geo = object({ lat: number(-90, 90), lon: number(-180, 180), country: string, region: string, city: string, zip: string, utcoffset: number(-1440, 1440) });
const publisher = object({ id: string, name: string, domain: string });
const siteFields = { id: string, name: string, domain: string, page: string, cat: arrayOf(string), keywords: string, kwarray: arrayOf(string), publisher };
const checkSite = object(siteFields);
const checkApp = object({ ...siteFields, bundle: string, storeurl: string });
const checkDevice = object({
  ua: string,
  ip: string,
  ipv6: string,
  devicetype: integer(1),
  make: string,
  model: string,
  os: string,
  osv: string,
  language: string,
  geo,
  dnt: flag,
  lmt: flag,
  connectiontype: integer(0),
  ifa: string,
});
const segment = object({ id: string, name: string, value: string });
const checkUser = object({
  id: string,
  buyeruid: string,
  yob: integer(1900, 2100),
  gender: string,
  keywords: string,
  kwarray: arrayOf(string),
  data: arrayOf(object({ id: string, name: string, segment: arrayOf(segment) })),
  consent: string,
  geo,
  ext: object({ consent: string }),
});
const checkRegs = object({
  coppa: flag,
  gdpr: flag,
  us_privacy: string,
  gpp: string,
  gpp_sid: arrayOf(integer()),
  ext: object({ gdpr: flag, us_privacy: string }),
});
const format = object({ w: integer(0), h: integer(0) });
const checkBanner = object({ w: integer(0), h: integer(0), format: arrayOf(format), pos: integer(0), mimes: arrayOf(string), btype: arrayOf(integer()), battr: arrayOf(integer()) });
const checkVideo = object({ mimes: arrayOf(string), w: integer(0), h: integer(0), minduration: integer(0), maxduration: integer(0), rqddurs: arrayOf(integer(1)), protocols: arrayOf(integer()), battr: arrayOf(integer()) }, ['mimes']);
const checkNative = object({ request: string, ver: string, battr: arrayOf(integer()) }, ['request']);
const checkAudio = object({ mimes: arrayOf(string) }, ['mimes']);
const checkImp = object({
  id: nonEmptyString,
  banner: checkBanner,
  video: checkVideo,
  native: checkNative,
  audio: checkAudio,
  bidfloor: number(0),
  bidfloorcur: currency,
  instl: flag,
  tagid: string,
  secure: flag,
  pmp: object({ private_auction: flag }),
});
const checkRoot = object(
  {
    id: nonEmptyString,
    test: flag,
    at: integer(1),
    tmax: number(0, Infinity, true),
    cur: arrayOf(currency),
    bcat: arrayOf(string),
    acat: arrayOf(string),
    cattax: integer(1),
    badv: arrayOf(string),
    bapp: arrayOf(string),
    wseat: arrayOf(string),
    bseat: arrayOf(string),
    allimps: flag,
    site: checkSite,
    app: checkApp,
    device: checkDevice,
    user: checkUser,
    regs: checkRegs,
  },
  ['id', 'imp'],
);

/**
 * Validates a parsed OpenRTB 2.5 / 2.6 BidRequest. Checks the structure the spec requires (`id`,
 * a non-empty `imp` array with unique ids) and the type of every field this package reads (site,
 * app, device, geo, user, regs, `at`, `tmax`, `cur`, `bcat`, `badv`, …); unknown fields are
 * ignored, as OpenRTB requires. Problems confined to one impression (a negative `bidfloor`, a
 * malformed `bidfloorcur` or media object, no banner, video or native object) make that
 * impression unbiddable without failing the request.
 *
 * @param raw - The parsed JSON body.
 * @returns `{ ok: true, request, impIssues }` or `{ ok: false, issues }`; never throws.
 * @example
 * ```ts
 * import { validateBidRequest } from '@ctrkit/auction';
 * const result = validateBidRequest({ id: 'r', imp: [], tmax: -5 });
 * if (!result.ok) console.log(result.issues.map((i) => `${i.path} ${i.message}`));
 * // ['imp must hold at least one impression', 'tmax must be a finite number > 0, got -5']
 * ```
 */
export function validateBidRequest(raw: unknown): BidRequestValidation {
  const issues: ValidationIssue[] = [];
  if (!isRecord(raw)) return { ok: false, issues: [{ path: '', message: `a BidRequest must be a JSON object, got ${describe(raw)}` }] };
  if (raw.imp !== undefined) {
    if (!Array.isArray(raw.imp)) fail(issues, 'imp', `must be an array of impressions, got ${describe(raw.imp)}`);
    else if (raw.imp.length === 0) fail(issues, 'imp', 'must hold at least one impression');
  }
  checkRoot(raw, '', issues);
  for (const issue of issues) (issue as { path: string }).path = issue.path.replace(/^\./, '');
  const impIssues: ValidationIssue[] = [];
  if (Array.isArray(raw.imp)) {
    const seen = new Set<string>();
    raw.imp.forEach((imp: unknown, i) => {
      const path = `imp[${i}]`;
      if (!isRecord(imp)) {
        fail(issues, path, `must be an object, got ${describe(imp)}`);
        return;
      }
      if (typeof imp.id !== 'string' || imp.id.length === 0) {
        fail(issues, `${path}.id`, `must be a non-empty string, got ${describe(imp.id)}`);
        return;
      }
      if (seen.has(imp.id)) fail(issues, `${path}.id`, `"${imp.id}" is used by two impressions; impression ids must be unique`);
      seen.add(imp.id);
      const found: ValidationIssue[] = [];
      checkImp(imp, path, found);
      if (imp.banner === undefined && imp.video === undefined && imp.native === undefined) {
        fail(found, path, imp.audio === undefined ? 'has no banner, video, native or audio object' : 'is audio only, which this bidder does not serve');
      }
      for (const issue of found) impIssues.push(issue);
    });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, request: raw as unknown as BidRequest, impIssues };
}

/** How an impression maps to a slot. @internal */
export interface MappedImp {
  readonly imp: Imp;
  readonly slot: AdSlot;
  /** Ad formats the impression accepts (banner → display, video, native). */
  readonly formats: readonly AdFormat[];
  /** Allowed banner sizes (`[w, h]`), empty when any size fits or the impression is not a banner. */
  readonly sizes: readonly (readonly [number, number])[];
}

const DEVICE_TYPES: Readonly<Record<number, DeviceType>> = { 1: 'mobile', 2: 'desktop', 3: 'ctv', 4: 'mobile', 5: 'tablet', 6: 'other', 7: 'ctv', 8: 'other' };
const CONNECTIONS: Readonly<Record<number, RequestContext['connection']>> = { 1: 'ethernet', 2: 'wifi', 3: 'cellular', 4: 'cellular', 5: 'cellular', 6: 'cellular', 7: 'cellular' };

function words(list: readonly string[] | undefined, text: string | undefined): string[] | undefined {
  if (list !== undefined && list.length > 0) return [...list];
  if (text === undefined || text.trim().length === 0) return undefined;
  return text
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w.length > 0);
}

/**
 * Describes an impression as a slot: format by media object (banner → display, then video, then
 * native), position by its order in the request, size from `banner.w/h` or the first `format`.
 *
 * @internal
 */
export function mapImp(imp: Imp, position: number, floorCpm: number | undefined): MappedImp {
  const formats: AdFormat[] = [];
  if (imp.banner !== undefined) formats.push('display');
  if (imp.video !== undefined) formats.push('video');
  if (imp.native !== undefined) formats.push('native');
  const sizes: [number, number][] = [];
  const banner = imp.banner;
  if (banner !== undefined) {
    if (banner.w !== undefined && banner.h !== undefined) sizes.push([banner.w, banner.h]);
    for (const f of banner.format ?? []) if (f.w !== undefined && f.h !== undefined) sizes.push([f.w, f.h]);
  }
  const width = banner?.w ?? banner?.format?.[0]?.w ?? imp.video?.w;
  const height = banner?.h ?? banner?.format?.[0]?.h ?? imp.video?.h;
  const slot: AdSlot = {
    id: imp.id,
    format: formats[0] ?? 'display',
    position,
    ...(width === undefined ? {} : { width }),
    ...(height === undefined ? {} : { height }),
    ...(floorCpm === undefined ? {} : { floorCpm }),
  };
  return { imp, slot, formats, sizes };
}

/**
 * Maps a valid BidRequest's user and context to an `AdRequest` (without candidates).
 *
 * | AdRequest | BidRequest |
 * |---|---|
 * | `user.id` | `user.buyeruid`, else `user.id`, else `device.ifa`, else `anon:<id>` |
 * | `user.age` | request year − `user.yob` (OpenRTB 2.5) |
 * | `user.gender` | `user.gender` M / F / O |
 * | `user.country`, `region`, `city` | `device.geo`, else `user.geo` (alpha-3 country → alpha-2) |
 * | `user.device`, `os`, `language` | `device.devicetype`, `device.os`, `device.language` |
 * | `user.interests` | `user.kwarray`, else `user.keywords` split on commas |
 * | `user.segments` | ids of `user.data[].segment[]` |
 * | `context.publisherId`, `domain` | `site` or `app` (`app.bundle` when no domain) |
 * | `context.pageCategory`, `keywords` | first of `cat`, and `kwarray` / `keywords` |
 * | `context.connection`, `timezoneOffsetMinutes` | `device.connectiontype`, `device.geo.utcoffset` |
 *
 * @internal
 */
export function mapBidRequest(request: BidRequest, timestamp: number, slots: readonly AdSlot[]): AdRequest {
  const device = request.device;
  const user = request.user;
  const location = device?.geo ?? user?.geo;
  const profile: { -readonly [K in keyof UserProfile]: UserProfile[K] } = {
    id: user?.buyeruid ?? user?.id ?? device?.ifa ?? `anon:${request.id}`,
  };
  const legacy = user as { yob?: number; gender?: string } | undefined;
  if (legacy?.yob !== undefined) {
    const age = new Date(timestamp).getUTCFullYear() - legacy.yob;
    if (age >= 0 && age <= 120) profile.age = age;
  }
  const gender = legacy?.gender === 'M' ? 'male' : legacy?.gender === 'F' ? 'female' : legacy?.gender === 'O' ? 'other' : undefined;
  if (gender !== undefined) profile.gender = gender;
  const country = location?.country === undefined ? undefined : toAlpha2(location.country);
  if (country !== undefined) profile.country = country;
  if (location?.region !== undefined) profile.region = location.region;
  if (location?.city !== undefined) profile.city = location.city;
  const deviceType = device?.devicetype === undefined ? undefined : DEVICE_TYPES[device.devicetype as number];
  if (deviceType !== undefined) profile.device = deviceType;
  if (device?.os !== undefined) profile.os = device.os;
  if (device?.language !== undefined) profile.language = device.language;
  const interests = words(user?.kwarray, user?.keywords);
  if (interests !== undefined) profile.interests = interests;
  const segments: string[] = [];
  for (const data of user?.data ?? []) for (const s of data.segment ?? []) if (s.id !== undefined) segments.push(s.id);
  if (segments.length > 0) profile.segments = segments;

  const place = request.site ?? request.app;
  const context: { -readonly [K in keyof RequestContext]: RequestContext[K] } = { timestamp, slots };
  const publisherId = place?.publisher?.id;
  if (publisherId !== undefined) context.publisherId = publisherId;
  const domain = place?.domain ?? request.app?.bundle;
  if (domain !== undefined) context.domain = domain;
  const category = place?.cat?.[0];
  if (category !== undefined) context.pageCategory = category;
  const keywords = words(place?.kwarray, place?.keywords);
  if (keywords !== undefined) context.keywords = keywords;
  const connection = device?.connectiontype === undefined ? undefined : CONNECTIONS[device.connectiontype as number];
  if (connection !== undefined) context.connection = connection;
  if (device?.geo?.utcoffset !== undefined) context.timezoneOffsetMinutes = device.geo.utcoffset;
  return { requestId: request.id, user: profile, context, candidates: [] };
}
