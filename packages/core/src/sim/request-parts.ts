/**
 * The parts of an ad request the traffic generator builds from the world's entities: a user's
 * profile and an ad's candidate.
 */
import type { AdCandidate, UserProfile } from '../types/request.js';
import type { SimAd, SimAdvertiser, SimCampaign, SimUser } from './entities.js';

/**
 * The profile a request for this user carries: what an ad server knows of them (the hidden
 * latent tastes and biases stay in the world), with age and retargeting segments.
 *
 * @param user - The user.
 * @returns The profile.
 * @internal
 */
export function profileOf(user: SimUser): UserProfile {
  const segments = [`age-${Math.floor(user.age / 10) * 10}s`, ...[...user.clickedAdvertisers].map((id) => `rt-${id}`)];
  return {
    id: user.id,
    age: user.age,
    gender: user.gender,
    country: user.country,
    device: user.device,
    os: user.os,
    interests: user.interests,
    segments,
    history: user.history,
  };
}

/**
 * The candidate an ad is offered as: its ids, format, category, the campaign's bid and the
 * advertiser's domain, with the ad's average conversion rate as `pCvr`.
 *
 * @param ad - The ad.
 * @param campaign - Its campaign.
 * @param advertiser - Its advertiser.
 * @param averageCvr - Its average conversion probability given a click.
 * @returns The candidate.
 * @internal
 */
export function candidateOf(ad: SimAd, campaign: SimCampaign, advertiser: SimAdvertiser, averageCvr: number): AdCandidate {
  return {
    adId: ad.id,
    advertiserId: ad.advertiserId,
    campaignId: ad.campaignId,
    format: ad.format,
    category: ad.category,
    bid: campaign.bid,
    bidType: campaign.bidType,
    domain: advertiser.domain,
    pCvr: averageCvr,
  };
}
