/**
 * Whether a creative fits one impression beyond its format and size: a video's media types,
 * duration and VAST protocol; the attributes the impression blocks (`battr`).
 */
import type { Imp } from 'iab-openrtb/v26';
import type { BidderCreative } from './creative.js';

/** @internal Whether a video creative meets the impression's `video` object: a media type it plays, its duration, its VAST protocol. */
export function videoFits(imp: Imp, creative: BidderCreative): boolean {
  const video = imp.video;
  if (video === undefined) return false;
  const mimes = creative.mimes ?? [];
  if (video.mimes !== undefined && video.mimes.length > 0 && !mimes.some((m) => video.mimes?.includes(m))) return false;
  const duration = creative.duration ?? 0;
  if (video.minduration !== undefined && duration < video.minduration) return false;
  if (video.maxduration !== undefined && video.maxduration > 0 && duration > video.maxduration) return false;
  if (video.rqddurs !== undefined && video.rqddurs.length > 0 && !video.rqddurs.includes(duration)) return false;
  if (video.protocols !== undefined && video.protocols.length > 0 && (creative.protocol === undefined || !(video.protocols as readonly number[]).includes(creative.protocol))) return false;
  return true;
}

/** @internal Whether the impression's media object for the creative's format blocks one of its attributes (`battr`). */
export function attributeBlocked(imp: Imp, creative: BidderCreative): boolean {
  const attr = creative.attr;
  if (attr === undefined || attr.length === 0) return false;
  const media = creative.format === 'video' ? imp.video : creative.format === 'native' ? imp.native : imp.banner;
  const battr = (media as { battr?: readonly number[] } | undefined)?.battr;
  return battr !== undefined && battr.length > 0 && attr.some((a) => battr.includes(a));
}

