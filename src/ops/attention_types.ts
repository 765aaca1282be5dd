// The public types of weft.attention, re-exported by src/index.ts.
export type {
  AttentionCommonOptions, AttentionGradients, AttentionResult, FullAttentionArgs, SoftmaxBackwardExtras,
  WindowedAttentionArgs,
} from './attention.js';
export type { AttentionApi } from './attention_api.js';
export type {
  FeatureMap, FeatureOptions, LinearAttentionArgs, LinearBackwardExtras, LinearStream, LinearStreamOptions,
} from './attention_linear.js';
