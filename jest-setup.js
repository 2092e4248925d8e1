// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';

// jsdom has no IntersectionObserver; @grafana/ui's lazy-loading components construct one on import.
class IntersectionObserverStub {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
Object.assign(global, { IntersectionObserver: IntersectionObserverStub });

// The scaffold's react-inlinesvg mock names each <svg> after the file in `src` with a regex that
// backtracks quadratically on inline markup: EmptyState's ~95 kB illustrations took 2.4 s a render.
jest.mock('react-inlinesvg', () => {
  const React = require('react');
  const InlineSVG = ({ src }) => {
    const file = src.startsWith('<') ? 'inline-svg' : src.slice(src.lastIndexOf('/') + 1).replace(/\.svg$/, '');
    return React.createElement('svg', { xmlns: 'http://www.w3.org/2000/svg', 'data-testid': file, viewBox: '0 0 24 24' });
  };
  return { __esModule: true, default: InlineSVG };
});

// React 19's react-dom/server (which @grafana/ui's TruncatedText imports) schedules work through a
// MessageChannel at import time; jsdom does not provide one, Node does. A Node port with a message
// handler keeps its thread alive, so the channels a test file made are closed after it: left
// open, they kept jest's workers from exiting ("a worker process has failed to exit gracefully").
if (typeof global.MessageChannel === 'undefined') {
  const { MessageChannel: NodeMessageChannel } = require('node:worker_threads');
  const channels = [];
  class MessageChannel extends NodeMessageChannel {
    constructor() {
      super();
      channels.push(this);
    }
  }
  Object.assign(global, { MessageChannel });
  afterAll(() => {
    for (const c of channels.splice(0)) {
      c.port1.close();
      c.port2.close();
    }
  });
}
