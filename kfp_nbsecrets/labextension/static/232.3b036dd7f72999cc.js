"use strict";(self.rspackChunkkfp_nbsecrets=self.rspackChunkkfp_nbsecrets||[]).push([[232],{475(e,r,o){var t=o(601),n=o.n(t),s=o(314),a=(o.n(s))()(n());a.push([e.id,`/* kfp-nbsecrets pipeline IR renderer. Colours come from the JupyterLab theme (--jp-*). */

.kfp-nbsecrets-ir {
  font-family: var(--jp-ui-font-family);
  font-size: var(--jp-ui-font-size1);
  color: var(--jp-ui-font-color1);
  padding: 4px 0;
  overflow: hidden;
}

.kfp-nbsecrets-header {
  display: flex;
  flex-wrap: wrap;
  align-items: baseline;
  gap: 12px;
  margin-bottom: 4px;
}

.kfp-nbsecrets-title {
  font-weight: 600;
  font-size: var(--jp-ui-font-size2);
  color: var(--jp-ui-font-color0);
}

.kfp-nbsecrets-summary,
.kfp-nbsecrets-muted {
  color: var(--jp-ui-font-color2);
}

.kfp-nbsecrets-params {
  display: flex;
  flex-wrap: wrap;
  gap: 6px;
  align-items: baseline;
  margin-bottom: 6px;
}

.kfp-nbsecrets-param {
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
  background: var(--jp-layout-color2);
  border-radius: 3px;
  padding: 0 4px;
}

.kfp-nbsecrets-tabs {
  display: flex;
  gap: 2px;
  border-bottom: 1px solid var(--jp-border-color2);
}

.kfp-nbsecrets-tab {
  font: inherit;
  color: var(--jp-ui-font-color1);
  background: var(--jp-layout-color2);
  border: 1px solid var(--jp-border-color2);
  border-bottom: none;
  border-radius: 3px 3px 0 0;
  padding: 3px 10px;
  cursor: pointer;
}

.kfp-nbsecrets-tab[aria-selected='true'] {
  background: var(--jp-layout-color0);
  color: var(--jp-ui-font-color0);
  border-top: 2px solid var(--jp-brand-color1);
}

.kfp-nbsecrets-panel {
  padding: 6px 0;
}

.kfp-nbsecrets-legend {
  margin-bottom: 4px;
  font-size: var(--jp-ui-font-size0);
}

.kfp-nbsecrets-body {
  display: flex;
  flex-wrap: wrap;
  gap: 8px;
  align-items: flex-start;
}

.kfp-nbsecrets-scroll {
  /* as wide as the graph (up to the output's width): the details panel goes beside it when there
     is room, else below it; it never narrows or covers the graph */
  flex: 0 1 auto;
  max-width: 100%;
  box-sizing: border-box;
  max-height: 640px;
  overflow: auto;
  border: 1px solid var(--jp-border-color2);
  background: var(--jp-layout-color0);
}

.kfp-nbsecrets-canvas {
  position: relative;
}

.kfp-nbsecrets-edges {
  position: absolute;
  left: 0;
  top: 0;
  pointer-events: none;
  z-index: 1;
}

/* A slice of the graph, sized by the layout: out of sight, it is neither laid out nor painted.
   Tiles overlap (a tile spans the boxes it holds): only tasks and group labels take the pointer. */
.kfp-nbsecrets-tile {
  position: absolute;
  contain: strict;
  content-visibility: auto;
  pointer-events: none;
}

.kfp-nbsecrets-task,
.kfp-nbsecrets-group-label {
  pointer-events: auto;
}

.kfp-nbsecrets-edge {
  fill: none;
  stroke: var(--jp-ui-font-color3);
  stroke-width: 1.3;
}

.kfp-nbsecrets-arrowhead {
  fill: var(--jp-ui-font-color3);
}

.kfp-nbsecrets-group {
  position: absolute;
  box-sizing: border-box;
  border: 1px dashed var(--jp-border-color1);
  border-radius: 6px;
  background: var(--jp-layout-color1);
}

.kfp-nbsecrets-group .kfp-nbsecrets-group {
  background: var(--jp-layout-color2);
}

.kfp-nbsecrets-group .kfp-nbsecrets-group .kfp-nbsecrets-group {
  background: var(--jp-layout-color1);
}

.kfp-nbsecrets-group--for-loop {
  border-style: solid;
}

.kfp-nbsecrets-group--pipeline {
  border-style: double;
  border-width: 3px;
}

.kfp-nbsecrets-group-label {
  display: flex;
  align-items: center;
  gap: 6px;
  padding: 0 8px;
  box-sizing: border-box;
  white-space: nowrap;
  overflow: hidden;
  cursor: pointer;
  border-radius: 6px 6px 0 0;
}

.kfp-nbsecrets-group-kind {
  text-transform: uppercase;
  font-size: var(--jp-ui-font-size0);
  letter-spacing: 0.04em;
  color: var(--jp-ui-font-color2);
}

.kfp-nbsecrets-group-name {
  font-weight: 600;
  overflow: hidden;
  text-overflow: ellipsis;
}

.kfp-nbsecrets-predicate {
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
  font-weight: normal;
  color: var(--jp-ui-font-color0);
}

.kfp-nbsecrets-skeleton {
  display: flex;
  align-items: center;
  justify-content: center;
  width: min(640px, 100%);
  height: 160px;
  border-radius: 6px;
  background: var(--jp-layout-color2);
  animation: kfp-nbsecrets-pulse 1.2s ease-in-out infinite alternate;
}

@keyframes kfp-nbsecrets-pulse {
  from {
    opacity: 1;
  }
  to {
    opacity: 0.55;
  }
}

@media (prefers-reduced-motion: reduce) {
  .kfp-nbsecrets-skeleton {
    animation: none;
  }
}

.kfp-nbsecrets-task {
  position: absolute;
  z-index: 2;
  box-sizing: border-box;
  padding: 4px 6px;
  border: 1px solid var(--jp-border-color1);
  border-left: 4px solid var(--jp-brand-color1);
  border-radius: 4px;
  background: var(--jp-layout-color0);
  box-shadow: var(--jp-elevation-z1);
  cursor: pointer;
  overflow: hidden;
}

.kfp-nbsecrets-task--importer {
  border-left-color: var(--jp-accent-color1);
}

.kfp-nbsecrets-task.kfp-nbsecrets-has-warning {
  border-color: var(--jp-warn-color1);
  border-left-color: var(--jp-warn-color1);
}

.kfp-nbsecrets-task.kfp-nbsecrets-has-error,
.kfp-nbsecrets-group.kfp-nbsecrets-has-error {
  border-color: var(--jp-error-color1);
  border-left-color: var(--jp-error-color1);
}

.kfp-nbsecrets-group.kfp-nbsecrets-has-warning {
  border-color: var(--jp-warn-color1);
}

.kfp-nbsecrets-focusable:hover {
  background: var(--jp-layout-color2);
}

.kfp-nbsecrets-focusable:focus-visible,
.kfp-nbsecrets-focusable:focus {
  outline: 2px solid var(--jp-brand-color1);
  outline-offset: 1px;
}

.kfp-nbsecrets-selected {
  box-shadow: 0 0 0 2px var(--jp-brand-color1);
}

.kfp-nbsecrets-task-title {
  display: flex;
  align-items: center;
  gap: 4px;
  height: 18px;
}

.kfp-nbsecrets-task-name {
  flex: 1 1 auto;
  font-weight: 600;
  color: var(--jp-ui-font-color0);
  white-space: nowrap;
  overflow: hidden;
  text-overflow: ellipsis;
}

.kfp-nbsecrets-task-sub {
  font-size: var(--jp-ui-font-size0);
  color: var(--jp-ui-font-color2);
  height: 16px;
  white-space: nowrap;
  overflow: hidden;
  text-overflow: ellipsis;
}

.kfp-nbsecrets-badges {
  display: grid;
  grid-template-columns: minmax(0, 1fr);
  grid-auto-rows: 16px;
  row-gap: 4px;
  column-gap: 4px;
  margin-top: 4px;
}

.kfp-nbsecrets-badge {
  display: inline-flex;
  align-items: center;
  height: 16px;
  min-width: 0;
  border-radius: 8px;
  font-size: var(--jp-ui-font-size0);
  line-height: 16px;
  overflow: hidden;
  white-space: nowrap;
  border: 1px solid var(--jp-border-color1);
  background: var(--jp-layout-color1);
}

.kfp-nbsecrets-badge-kind {
  padding: 0 5px;
  font-weight: 600;
  color: var(--jp-ui-inverse-font-color0);
  background: var(--jp-brand-color1);
  border-radius: 8px;
  text-transform: uppercase;
  font-size: var(--jp-ui-font-size0);
}

.kfp-nbsecrets-badge--volume .kfp-nbsecrets-badge-kind,
.kfp-nbsecrets-legend-volume {
  background: var(--jp-accent-color1);
}

.kfp-nbsecrets-badge--image-pull .kfp-nbsecrets-badge-kind,
.kfp-nbsecrets-legend-image-pull {
  background: var(--jp-ui-font-color2);
}

.kfp-nbsecrets-badge-src {
  padding: 0 5px;
  font-family: var(--jp-code-font-family);
  overflow: hidden;
  text-overflow: ellipsis;
  color: var(--jp-ui-font-color1);
}

.kfp-nbsecrets-src--parameter .kfp-nbsecrets-badge-src {
  font-style: italic;
}

.kfp-nbsecrets-src--task-output .kfp-nbsecrets-badge-src,
.kfp-nbsecrets-src--loop-item .kfp-nbsecrets-badge-src {
  text-decoration: underline dotted;
}

.kfp-nbsecrets-src--unresolved {
  border-color: var(--jp-error-color1);
}

.kfp-nbsecrets-marker {
  flex: none;
  font-size: var(--jp-ui-font-size0);
  padding: 0 4px;
  border-radius: 3px;
  color: var(--jp-ui-inverse-font-color0);
}

.kfp-nbsecrets-marker--warning {
  background: var(--jp-warn-color1);
}

.kfp-nbsecrets-marker--error {
  background: var(--jp-error-color1);
}

.kfp-nbsecrets-details {
  flex: 1 1 320px;
  min-width: 320px;
  max-width: 560px;
  max-height: 640px;
  overflow: auto;
  border: 1px solid var(--jp-border-color2);
  background: var(--jp-layout-color1);
  padding: 6px 8px;
  box-sizing: border-box;
}

.kfp-nbsecrets-details[hidden] {
  display: none;
}

.kfp-nbsecrets-details-head {
  display: flex;
  align-items: center;
  justify-content: space-between;
}

.kfp-nbsecrets-details-title {
  margin: 0;
  font-size: var(--jp-ui-font-size2);
  color: var(--jp-ui-font-color0);
  overflow-wrap: anywhere;
}

.kfp-nbsecrets-details h4 {
  margin: 8px 0 4px;
  font-size: var(--jp-ui-font-size1);
  color: var(--jp-ui-font-color0);
}

.kfp-nbsecrets-close {
  font: inherit;
  font-size: 16px;
  background: none;
  border: none;
  color: var(--jp-ui-font-color1);
  cursor: pointer;
}

.kfp-nbsecrets-fields {
  display: grid;
  grid-template-columns: max-content minmax(0, 1fr);
  gap: 2px 8px;
  margin: 4px 0;
}

.kfp-nbsecrets-fields dt {
  color: var(--jp-ui-font-color2);
  white-space: nowrap;
}

.kfp-nbsecrets-fields dd {
  margin: 0;
  overflow-wrap: anywhere;
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
}

.kfp-nbsecrets-binding {
  border: 1px solid var(--jp-border-color2);
  border-radius: 4px;
  background: var(--jp-layout-color0);
  padding: 4px 6px;
  margin-bottom: 6px;
}

.kfp-nbsecrets-binding-head {
  display: flex;
  align-items: center;
  gap: 6px;
}

.kfp-nbsecrets-binding-head .kfp-nbsecrets-badge {
  flex: none;
}

.kfp-nbsecrets-secret {
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
  font-weight: 600;
  overflow-wrap: anywhere;
}

.kfp-nbsecrets-reference,
.kfp-nbsecrets-optional {
  color: var(--jp-ui-font-color2);
}

.kfp-nbsecrets-command {
  max-height: 220px;
  overflow: auto;
}

.kfp-nbsecrets-command pre,
.kfp-nbsecrets-yaml {
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
  background: var(--jp-layout-color2);
  color: var(--jp-content-font-color1);
  margin: 2px 0;
  padding: 4px;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}

.kfp-nbsecrets-yaml {
  max-height: 640px;
  overflow: auto;
}

.kfp-nbsecrets-findings {
  list-style: none;
  margin: 0;
  padding: 0;
}

.kfp-nbsecrets-finding {
  border-left: 4px solid var(--jp-warn-color1);
  padding: 2px 6px;
  margin: 4px 0;
  background: var(--jp-layout-color1);
}

.kfp-nbsecrets-finding--error {
  border-left-color: var(--jp-error-color1);
}

.kfp-nbsecrets-severity {
  font-weight: 600;
  text-transform: uppercase;
  margin-right: 6px;
}

.kfp-nbsecrets-code {
  font-family: var(--jp-code-font-family);
  color: var(--jp-ui-font-color2);
  margin-right: 6px;
}

.kfp-nbsecrets-task-link {
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
  background: none;
  border: none;
  padding: 0;
  color: var(--jp-content-link-color);
  text-decoration: underline;
  cursor: pointer;
}

.kfp-nbsecrets-fix {
  color: var(--jp-ui-font-color2);
  font-style: italic;
}
`,""]),o.d(r,{},{A:a})},314(e){e.exports=function(e){var r=[];return r.toString=function(){return this.map(function(r){var o="",t=void 0!==r[5];return r[4]&&(o+="@supports (".concat(r[4],") {")),r[2]&&(o+="@media ".concat(r[2]," {")),t&&(o+="@layer".concat(r[5].length>0?" ".concat(r[5]):""," {")),o+=e(r),t&&(o+="}"),r[2]&&(o+="}"),r[4]&&(o+="}"),o}).join("")},r.i=function(e,o,t,n,s){"string"==typeof e&&(e=[[null,e,void 0]]);var a={};if(t)for(var p=0;p<this.length;p++){var i=this[p][0];null!=i&&(a[i]=!0)}for(var c=0;c<e.length;c++){var l=[].concat(e[c]);t&&a[l[0]]||(void 0!==s&&(void 0===l[5]||(l[1]="@layer".concat(l[5].length>0?" ".concat(l[5]):""," {").concat(l[1],"}")),l[5]=s),o&&(l[2]&&(l[1]="@media ".concat(l[2]," {").concat(l[1],"}")),l[2]=o),n&&(l[4]?(l[1]="@supports (".concat(l[4],") {").concat(l[1],"}"),l[4]=n):l[4]="".concat(n)),r.push(l))}},r}},601(e){e.exports=function(e){return e[1]}},72(e){var r=[];function o(e){for(var o=-1,t=0;t<r.length;t++)if(r[t].identifier===e){o=t;break}return o}function t(e,t){for(var n={},s=[],a=0;a<e.length;a++){var p=e[a],i=t.base?p[0]+t.base:p[0],c=n[i]||0,l="".concat(i," ").concat(c);n[i]=c+1;var f=o(l),d={css:p[1],media:p[2],sourceMap:p[3],supports:p[4],layer:p[5]};if(-1!==f)r[f].references++,r[f].updater(d);else{var b=function(e,r){var o=r.domAPI(r);return o.update(e),function(r){r?(r.css!==e.css||r.media!==e.media||r.sourceMap!==e.sourceMap||r.supports!==e.supports||r.layer!==e.layer)&&o.update(e=r):o.remove()}}(d,t);t.byIndex=a,r.splice(a,0,{identifier:l,updater:b,references:1})}s.push(l)}return s}e.exports=function(e,n){var s=t(e=e||[],n=n||{});return function(e){e=e||[];for(var a=0;a<s.length;a++){var p=o(s[a]);r[p].references--}for(var i=t(e,n),c=0;c<s.length;c++){var l=o(s[c]);0===r[l].references&&(r[l].updater(),r.splice(l,1))}s=i}}},659(e){var r={};e.exports=function(e,o){var t=function(e){if(void 0===r[e]){var o=document.querySelector(e);if(window.HTMLIFrameElement&&o instanceof window.HTMLIFrameElement)try{o=o.contentDocument.head}catch(e){o=null}r[e]=o}return r[e]}(e);if(!t)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");t.appendChild(o)}},540(e){e.exports=function(e){var r=document.createElement("style");return e.setAttributes(r,e.attributes),e.insert(r,e.options),r}},56(e,r,o){e.exports=function(e){var r=o.nc;r&&e.setAttribute("nonce",r)}},825(e){e.exports=function(e){if("u"<typeof document)return{update:function(){},remove:function(){}};var r=e.insertStyleElement(e);return{update:function(o){var t,n,s;t="",o.supports&&(t+="@supports (".concat(o.supports,") {")),o.media&&(t+="@media ".concat(o.media," {")),(n=void 0!==o.layer)&&(t+="@layer".concat(o.layer.length>0?" ".concat(o.layer):""," {")),t+=o.css,n&&(t+="}"),o.media&&(t+="}"),o.supports&&(t+="}"),(s=o.sourceMap)&&"u">typeof btoa&&(t+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(s))))," */")),e.styleTagTransform(t,r,e.options)},remove:function(){var e;null===(e=r).parentNode||e.parentNode.removeChild(e)}}}},113(e){e.exports=function(e,r){if(r.styleSheet)r.styleSheet.cssText=e;else{for(;r.firstChild;)r.removeChild(r.firstChild);r.appendChild(document.createTextNode(e))}}},579(e,r,o){var t=o(72),n=o.n(t),s=o(825),a=o.n(s),p=o(659),i=o.n(p),c=o(56),l=o.n(c),f=o(540),d=o.n(f),b=o(113),u=o.n(b),v=o(475),g={};g.styleTagTransform=u(),g.setAttributes=l(),g.insert=i().bind(null,"head"),g.domAPI=a(),g.insertStyleElement=d(),n()(v.A,g),v.A&&v.A.locals&&v.A.locals}}]);