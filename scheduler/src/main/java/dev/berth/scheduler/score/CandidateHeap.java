package dev.berth.scheduler.score;

import java.util.Comparator;
import java.util.List;

/**
 * A binary min-heap of candidates. Hand-written because {@link java.util.PriorityQueue} cannot be built from a
 * list with a comparator in O(n); a group builds one heap over every eligible node (10,000 of them at scale)
 * and usually takes only a few, so the O(n) heapify is most of the heap's cost. Not thread-safe.
 */
final class CandidateHeap {

  private final Comparator<Candidate> order;
  private Candidate[] heap;
  private int size;

  CandidateHeap(List<Candidate> items, Comparator<Candidate> order) {
    this.order = order;
    this.heap = items.toArray(new Candidate[Math.max(1, items.size())]);
    this.size = items.size();
    for (int i = (size >>> 1) - 1; i >= 0; i--) {
      siftDown(i);
    }
  }

  boolean isEmpty() {
    return size == 0;
  }

  Candidate poll() {
    if (size == 0) {
      return null;
    }
    Candidate top = heap[0];
    size--;
    heap[0] = heap[size];
    heap[size] = null;
    if (size > 0) {
      siftDown(0);
    }
    return top;
  }

  void add(Candidate c) {
    if (size == heap.length) {
      heap = java.util.Arrays.copyOf(heap, size * 2);
    }
    int i = size++;
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (order.compare(c, heap[parent]) >= 0) {
        break;
      }
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = c;
  }

  private void siftDown(int i) {
    Candidate c = heap[i];
    int half = size >>> 1;
    while (i < half) {
      int child = 2 * i + 1;
      int right = child + 1;
      if (right < size && order.compare(heap[right], heap[child]) < 0) {
        child = right;
      }
      if (order.compare(c, heap[child]) <= 0) {
        break;
      }
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = c;
  }
}
