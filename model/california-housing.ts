/** The input contract of model `california-housing` (see model/data/README.md). */
import type { ModelSpec } from '../core/feature-spec.ts';
import { CALIFORNIA_FEATURES, CALIFORNIA_TARGET, type CaliforniaFeature } from './dataset.ts';

export const CALIFORNIA_HOUSING_MODEL = 'california-housing';

const DESCRIPTIONS: Record<CaliforniaFeature, string> = {
  MedInc: 'median income in the block group, tens of thousands of dollars',
  HouseAge: 'median house age in the block group, years',
  AveRooms: 'average number of rooms per household',
  AveBedrms: 'average number of bedrooms per household',
  Population: 'block group population',
  AveOccup: 'average number of household members',
  Latitude: 'block group latitude, degrees',
  Longitude: 'block group longitude, degrees',
};

export const CALIFORNIA_HOUSING_SPEC: ModelSpec = Object.freeze({
  model: CALIFORNIA_HOUSING_MODEL,
  features: Object.freeze(
    CALIFORNIA_FEATURES.map((name) =>
      Object.freeze({ name, type: 'double', optional: false, description: DESCRIPTIONS[name] }),
    ),
  ),
  target: CALIFORNIA_TARGET,
});
