export { type GraphArc, type GraphNetwork, graphModel } from './graph-model.js';
export { type Inspector, type InspectorOptions, startInspector } from './server.js';
