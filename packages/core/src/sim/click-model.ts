/**
 * The hidden truth of the synthetic world: the click logit of a user seeing an ad on a page at a
 * slot and an hour (with drift at the impression's time), and the conversion probability.
 */
import { appealAt, tasteWeight, type DriftState } from './drift.js';
import { DEVICES, FORMATS, LATENT, SIM_CATEGORIES, type SimAd, type SimPublisher, type SimUser } from './entities.js';
import type { SimWorld } from './world.js';

/** @internal Age bucket used by the truth model. */
export function ageGroup(age: number): number {
  return age < 25 ? 0 : age < 35 ? 1 : age < 45 ? 2 : age < 55 ? 3 : 4;
}

/** @internal Position effect: examination probability falls with the slot's rank. */
export function positionEffect(position: number): number {
  return -0.45 * Math.log1p(position);
}

/** @internal Hour-of-day effect (local time), peaking in the evening. */
export function hourEffect(hour: number): number {
  return 0.25 * Math.sin((2 * Math.PI * (hour - 14)) / 24);
}

/** @internal The true click logit of a user seeing an ad on a publisher's page at `timestamp` (which only drift reads). */
export function clickLogit(world: SimWorld, user: SimUser, ad: SimAd, publisher: SimPublisher, localHour: number, position: number, timestamp: number): number {
  const truth = world.truth;
  const c = ad.categoryIndex;
  let dot = 0;
  for (let d = 0; d < LATENT; d++) dot += (user.latent[d] as number) * (truth.categoryLatent[c * LATENT + d] as number);
  let appeal = 0;
  const drift = world.drift;
  if (drift !== undefined) {
    appeal = appealAt(drift, ad.index, timestamp);
    const w = tasteWeight(drift, user.index, timestamp);
    if (w > 0) {
      // The affinity is linear in the latent vector, so moving the vector moves the dot product alike.
      const target = (drift.tastes as NonNullable<DriftState['tastes']>).target;
      let shifted = 0;
      for (let d = 0; d < LATENT; d++) shifted += (target[user.index * LATENT + d] as number) * (truth.categoryLatent[c * LATENT + d] as number);
      dot = (1 - w) * dot + w * shifted;
    }
  }
  const interest = user.interests.includes(ad.category) ? 0.6 : 0;
  const demographic = truth.ageCategory[ageGroup(user.age) * SIM_CATEGORIES.length + c] as number;
  const deviceFormat = truth.deviceFormat[DEVICES.indexOf(user.device) * FORMATS.length + FORMATS.indexOf(ad.format)] as number;
  const pageMatch = publisher.pageCategory === ad.category ? 0.4 : 0;
  const retargeting = user.clickedAdvertisers.has(ad.advertiserId) ? 0.5 : 0;
  return (
    truth.intercept +
    user.bias +
    ad.bias +
    appeal +
    (truth.advertiserBias.get(ad.advertiserId) ?? 0) +
    publisher.bias +
    truth.interaction * (dot + interest + demographic + deviceFormat + pageMatch + retargeting) +
    hourEffect(localHour) +
    positionEffect(position)
  );
}

/** @internal The true conversion probability given a click. */
export function conversionProbability(world: SimWorld, user: SimUser, ad: SimAd): number {
  const z = world.truth.conversionIntercept + ad.conversionBias + (user.interests.includes(ad.category) ? 0.5 : 0);
  return 1 / (1 + Math.exp(-z));
}
