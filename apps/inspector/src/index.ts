export { arcLabel, type GraphArc, type GraphNetwork, type GraphState, graphModel } from './graph-model.js';
export {
  type GraphLayout,
  type LayoutCluster,
  type LayoutEdge,
  type LayoutNode,
  layoutGraph,
} from './layout.js';
export { filterFromQuery, type Inspector, type InspectorOptions, startInspector } from './server.js';
