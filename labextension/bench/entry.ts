export { renderPipeline } from '../src/render';
export { layoutPayload } from '../src/layout';
export { normalize } from '../src/types';
