// A discrete prior evaluated natively: π(.|s) = softmax(MLP(s)/α), the soft-Q priors rqlbench
// trains, from their exported float32 weights. Native models ask it per node without Python.
// It computes in double, layer by layer as numpy's float64 path does
// (rqlbench/priors/policies.py: SoftQPolicyPrior.log_probs_of), so the two agree to rounding.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace rqlbench::mcts {

enum class Activation { kNone, kRelu, kTanh };

struct DenseLayer {
  std::vector<double> weight;  // row-major [outputs, inputs]
  std::vector<double> bias;    // [outputs]
  int inputs = 0;
  int outputs = 0;
  Activation activation = Activation::kNone;
};

class MlpPrior {
 public:
  MlpPrior(std::vector<DenseLayer> layers, double alpha)
      : layers_(std::move(layers)), alpha_(alpha) {
    if (layers_.empty()) throw std::invalid_argument("an MLP prior needs at least one layer");
    if (!(alpha_ > 0.0) || !std::isfinite(alpha_)) {
      throw std::invalid_argument("alpha must be a finite number > 0, got " +
                                  std::to_string(alpha_));
    }
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const DenseLayer& layer = layers_[i];
      const std::string which = "layer " + std::to_string(i);
      if (layer.inputs < 1 || layer.outputs < 1 ||
          layer.weight.size() != static_cast<std::size_t>(layer.inputs) * layer.outputs ||
          layer.bias.size() != static_cast<std::size_t>(layer.outputs)) {
        throw std::invalid_argument(which +
                                    ": weight must be [outputs, inputs] and bias [outputs]");
      }
      if (i > 0 && layer.inputs != layers_[i - 1].outputs) {
        throw std::invalid_argument(which + " takes " + std::to_string(layer.inputs) +
                                    " inputs but the layer before gives " +
                                    std::to_string(layers_[i - 1].outputs));
      }
    }
  }

  int num_inputs() const { return layers_.front().inputs; }
  int num_actions() const { return layers_.back().outputs; }

  // Normalized log π(.|x) into out[num_actions()]; x has num_inputs() values.
  void log_probs(const double* x, double* out) const {
    std::vector<double> current(x, x + num_inputs()), next;
    for (const DenseLayer& layer : layers_) {
      next.assign(layer.outputs, 0.0);
      for (int o = 0; o < layer.outputs; ++o) {
        const double* row = layer.weight.data() + static_cast<std::size_t>(o) * layer.inputs;
        next[o] =
            activate(dot(row, current.data(), layer.inputs) + layer.bias[o], layer.activation);
      }
      current.swap(next);
    }
    double top = -INFINITY;
    for (double& q : current) top = std::max(top, q /= alpha_);
    double total = 0.0;
    for (double q : current) total += std::exp(q - top);
    const double log_total = std::log(total);
    for (int a = 0; a < num_actions(); ++a) out[a] = current[a] - top - log_total;
  }

 private:
  // Four independent sums: the adds pipeline instead of waiting on one another (~4x on a
  // 256-wide layer). The order differs from numpy's BLAS; both are within rounding of the sum.
  static double dot(const double* a, const double* b, int n) {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
      s0 += a[i] * b[i];
      s1 += a[i + 1] * b[i + 1];
      s2 += a[i + 2] * b[i + 2];
      s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
  }

  static double activate(double v, Activation activation) {
    switch (activation) {
      case Activation::kRelu:
        return v > 0.0 ? v : 0.0;
      case Activation::kTanh:
        return std::tanh(v);
      case Activation::kNone:
        break;
    }
    return v;
  }

  std::vector<DenseLayer> layers_;
  double alpha_;
};

}  // namespace rqlbench::mcts
