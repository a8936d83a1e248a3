// jsdom lacks DragEvent, which @lumino/dragdrop (imported by @lumino/widgets) extends at load time.
if (typeof MouseEvent !== 'undefined' && typeof (globalThis as any).DragEvent === 'undefined') {
  (globalThis as any).DragEvent = class DragEvent extends MouseEvent {
    dataTransfer: null = null;
  };
}
