/**
 * JupyterLab / Notebook 7 MIME renderer extension for the kfp-nbsecrets pipeline IR preview.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { CLASS, renderPipeline } from './render';
import { MIME_TYPE } from './types';

export { MIME_TYPE } from './types';
export { renderPipeline } from './render';

/** A widget that renders the pipeline IR payload. */
export class PipelineIRRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this.addClass(CLASS);
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    return renderPipeline(this.node, model.data[this._mimeType]);
  }

  private _mimeType: string;
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  defaultRank: 0,
  createRenderer: options => new PipelineIRRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: 'kfp-nbsecrets:pipeline-ir',
  description: 'Renders the kfp-nbsecrets pipeline IR preview: the DAG, its secrets and lint findings.',
  rendererFactory,
  rank: 0,
  dataType: 'json'
};

export default extension;
