/**
 * OpenRTB Native 1.2: reading an impression's native request (`imp.native.request`, a JSON
 * string) and assembling a creative's native response for it, asset by asset, with the ids the
 * request gave.
 */
import { describe, isRecord } from './checks.js';

/** An image of a native creative.
 *
 * @example
 * ```ts
 * import type { NativeImage } from '@ctrkit/auction';
 * const image: NativeImage = { url: 'https://cdn.example/ad-1-1200x627.jpg', w: 1200, h: 627 };
 * ```
 */
export interface NativeImage {
  /** Where the image is. */
  readonly url: string;
  /** Width in pixels. */
  readonly w: number;
  /** Height in pixels. */
  readonly h: number;
}

/**
 * What a native creative is made of; the bidder builds the Native 1.2 response for each
 * impression from it, filling the assets that impression's request asks for.
 *
 * | request asset | filled from |
 * |---|---|
 * | `title` (`len`: most characters) | `title` |
 * | `img` type 3 (main), type 1 (icon) | `image`, `icon` (`w`/`h` exact, `wmin`/`hmin` at least) |
 * | `data` type 1 (sponsored), 2 (description), 12 (call to action) | `sponsored`, `description`, `cta` |
 *
 * A required asset it cannot fill (text longer than `len`, no image of the size, a video or
 * other data asset) makes the creative unfit for that impression; an optional one is left out.
 * Text is never cut: an advertiser's copy is sent as written or not at all.
 *
 * @example
 * ```ts
 * import type { NativeCreative } from '@ctrkit/auction';
 * const native: NativeCreative = {
 *   title: 'Weekend in Lisbon', sponsored: 'travel.example', clickUrl: 'https://travel.example/lisbon',
 *   image: { url: 'https://cdn.example/lisbon.jpg', w: 1200, h: 627 },
 * };
 * ```
 */
export interface NativeCreative {
  /** The headline. */
  readonly title: string;
  /** The main image. */
  readonly image?: NativeImage;
  /** The icon or logo. */
  readonly icon?: NativeImage;
  /** Who it is from ("sponsored by"). */
  readonly sponsored?: string;
  /** The body text. */
  readonly description?: string;
  /** The call to action ("Book now"). */
  readonly cta?: string;
  /** Where a click goes (`link.url`). */
  readonly clickUrl: string;
  /** Impression trackers (`eventtrackers` event 1, image pixel). */
  readonly impressionTrackers?: readonly string[];
}

/** One asset a native request asks for. */
interface RequestedAsset {
  readonly id: number;
  readonly required: boolean;
  readonly kind: 'title' | 'img' | 'data' | 'other';
  /** img: 1 icon, 3 main; data: 1 sponsored, 2 description, 12 call to action. */
  readonly type: number;
  readonly len: number;
  readonly w: number | undefined;
  readonly h: number | undefined;
  readonly wmin: number;
  readonly hmin: number;
}

/** @internal A parsed native request. */
export interface NativeRequest {
  /** Whether the request was wrapped in `{ "native": … }` (Native 1.0): the response is wrapped alike. */
  readonly wrapped: boolean;
  readonly assets: readonly RequestedAsset[];
  /** Whether the request accepts image-pixel impression trackers as `eventtrackers` (1.2). */
  readonly eventTrackers: boolean;
}

/** The longest native request read (bytes of JSON); exchanges send a few hundred. */
const MAX_REQUEST_LENGTH = 32_768;
const MAX_ASSETS = 64;

const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);

/**
 * @internal Parses `imp.native.request`; a string saying what is wrong when it cannot be used.
 * Never throws: the request comes from outside.
 */
export function parseNativeRequest(text: string): NativeRequest | string {
  if (text.length > MAX_REQUEST_LENGTH) return `native.request is ${text.length} characters; at most ${MAX_REQUEST_LENGTH} are read`;
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch (error) {
    return `native.request is not JSON: ${(error as Error).message}`;
  }
  const wrapped = isRecord(raw) && isRecord(raw.native);
  const request = wrapped ? (raw as { native: unknown }).native : raw;
  if (!isRecord(request)) return `native.request must be a Native 1.2 request object, got ${describe(request)}`;
  const assets = request.assets;
  if (!Array.isArray(assets) || assets.length === 0 || assets.length > MAX_ASSETS) return `native.request.assets must list 1 to ${MAX_ASSETS} assets`;
  const parsed: RequestedAsset[] = [];
  const ids = new Set<number>();
  for (const [i, asset] of assets.entries()) {
    if (!isRecord(asset)) return `native.request.assets[${i}] must be an object`;
    const id = count(asset.id);
    if (id === undefined || ids.has(id)) return `native.request.assets[${i}].id must be a unique integer ≥ 0, got ${describe(asset.id)}`;
    ids.add(id);
    const required = asset.required === 1;
    const media = isRecord(asset.title) ? (['title', asset.title] as const) : isRecord(asset.img) ? (['img', asset.img] as const) : isRecord(asset.data) ? (['data', asset.data] as const) : (['other', {}] as const);
    const [kind, spec] = media;
    const s = spec as Record<string, unknown>;
    parsed.push({
      id,
      required,
      kind,
      type: count(s.type) ?? (kind === 'img' ? 3 : 0),
      len: count(s.len) ?? Infinity,
      w: count(s.w),
      h: count(s.h),
      wmin: count(s.wmin) ?? 0,
      hmin: count(s.hmin) ?? 0,
    });
  }
  const trackers = Array.isArray(request.eventtrackers) ? request.eventtrackers : [];
  const eventTrackers = trackers.some((t: unknown) => isRecord(t) && t.event === 1 && Array.isArray(t.methods) && t.methods.includes(1));
  return { wrapped, assets: parsed, eventTrackers };
}

function imageFits(image: NativeImage | undefined, asset: RequestedAsset): boolean {
  if (image === undefined) return false;
  if (asset.w !== undefined && asset.h !== undefined && asset.wmin === 0 && asset.hmin === 0) return image.w === asset.w && image.h === asset.h;
  return image.w >= asset.wmin && image.h >= asset.hmin;
}

function text(value: string | undefined, asset: RequestedAsset): string | undefined {
  return value !== undefined && value.length <= asset.len ? value : undefined;
}

/**
 * @internal The Native 1.2 response of `creative` for `request` as JSON text (the bid's `adm`),
 * or undefined when a required asset cannot be filled.
 */
export function nativeResponse(creative: NativeCreative, request: NativeRequest): string | undefined {
  const assets: Record<string, unknown>[] = [];
  for (const asset of request.assets) {
    let filled: Record<string, unknown> | undefined;
    if (asset.kind === 'title') {
      const title = text(creative.title, asset);
      if (title !== undefined) filled = { id: asset.id, title: { text: title } };
    } else if (asset.kind === 'img') {
      const image = asset.type === 1 ? creative.icon : asset.type === 3 ? creative.image : undefined;
      if (image !== undefined && imageFits(image, asset)) filled = { id: asset.id, img: { url: image.url, w: image.w, h: image.h } };
    } else if (asset.kind === 'data') {
      const value = text(asset.type === 1 ? creative.sponsored : asset.type === 2 ? creative.description : asset.type === 12 ? creative.cta : undefined, asset);
      if (value !== undefined) filled = { id: asset.id, data: { value } };
    }
    if (filled !== undefined) assets.push(filled);
    else if (asset.required) return undefined;
  }
  const trackers = creative.impressionTrackers ?? [];
  const response: Record<string, unknown> = {
    ver: '1.2',
    assets,
    link: { url: creative.clickUrl },
    ...(trackers.length === 0 ? {} : request.eventTrackers ? { eventtrackers: trackers.map((url) => ({ event: 1, method: 1, url })) } : { imptrackers: [...trackers] }),
  };
  return JSON.stringify(request.wrapped ? { native: response } : response);
}

/** @internal Why `native` cannot make a native creative, or undefined. */
export function nativeProblem(native: unknown): string | undefined {
  if (!isRecord(native)) return `native must be { title, clickUrl, image?, icon?, sponsored?, description?, cta? }, got ${describe(native)}`;
  if (typeof native.title !== 'string' || native.title.length === 0) return 'native.title must be a non-empty string';
  if (typeof native.clickUrl !== 'string' || !/^https?:\/\//.test(native.clickUrl)) return `native.clickUrl must be an http(s) URL, got ${describe(native.clickUrl)}`;
  for (const key of ['image', 'icon'] as const) {
    const image = native[key];
    if (image === undefined) continue;
    if (!isRecord(image) || typeof image.url !== 'string' || count(image.w) === undefined || count(image.h) === undefined) return `native.${key} must be { url, w, h }, got ${describe(image)}`;
  }
  for (const key of ['sponsored', 'description', 'cta'] as const) {
    if (native[key] !== undefined && typeof native[key] !== 'string') return `native.${key} must be a string, got ${describe(native[key])}`;
  }
  const trackers = native.impressionTrackers;
  if (trackers !== undefined && !(Array.isArray(trackers) && trackers.every((t) => typeof t === 'string'))) return 'native.impressionTrackers must be an array of URLs';
  return undefined;
}
