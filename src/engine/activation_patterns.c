/* The small graphs exporters write for one activation, which the loader
 * fuses into one node (fuse_activations.c) so that attribution rules see
 * the activation Captum sees (a torch module), not its inner Sigmoid or
 * Tanh: DeepLift's rescale rule on the inner Tanh of a Mish is neither
 * Captum's result nor complete.
 *
 * What torch 1.13's torch.onnx.export writes (opsets 11-17), checked by
 * tools/make-activation-cases.py: nn.SiLU = Sigmoid x Mul; nn.GELU =
 * Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5; nn.GELU('tanh') =
 * x*x*x -> Mul 0.044715 -> Add x -> Mul sqrt(2/pi) -> Tanh -> Add 1 ->
 * Mul x -> Mul 0.5; nn.Hardswish before opset 14 = HardSigmoid(alpha 1/6)
 * x Mul; nn.Mish = Softplus -> Tanh -> Mul x; `x * F.relu6(x + 3) / 6` =
 * Add 3 -> Relu -> Clip(0, 6) -> Mul x -> Div 6. Also the other usual
 * hand-written forms: x * relu6(x + 3) / 6 with one Clip (Keras,
 * tf2onnx), GELU with Mul(x, 1/sqrt 2) or Pow(x, 3) and 0.5 x first. */
#include "kernels.h"

#define X { .kind = HL_PAT_X }
#define S(k) { .kind = HL_PAT_STEP, .step = (k) }
#define C(v) { .kind = HL_PAT_CONST, .value = (v) }
#define STEP(OP, ...) { .op_type = OP, .in = { __VA_ARGS__ } }
#define END { .n_steps = 0 }

#define SQRT2 1.4142135623730951
#define SQRT_2_OVER_PI 0.7978845608028654

const hl_op_pattern hl_patterns_swish[] = {
    { .name = "Sigmoid x Mul (torch nn.SiLU)", .n_steps = 2, .steps = {
        STEP("Sigmoid", X),
        STEP("Mul", X, S(0)) } },
    END,
};

const hl_op_pattern hl_patterns_mish[] = {
    { .name = "Softplus, Tanh, Mul (torch nn.Mish before opset 18)", .n_steps = 3, .steps = {
        STEP("Softplus", X),
        STEP("Tanh", S(0)),
        STEP("Mul", X, S(1)) } },
    END,
};

const hl_op_pattern hl_patterns_hardswish[] = {
    { .name = "HardSigmoid(1/6, 1/2) x Mul (torch nn.Hardswish before opset 14)", .n_steps = 2, .steps = {
        { .op_type = "HardSigmoid", .in = { X },
          .attr = { { "alpha", 1.0 / 6.0, 0.2 }, { "beta", 0.5, 0.5 } } },
        STEP("Mul", X, S(0)) } },
    { .name = "x * relu6(x + 3) / 6 (torch F.relu6 = Relu, Clip)", .n_steps = 5, .steps = {
        STEP("Add", X, C(3)),
        STEP("Relu", S(0)),
        STEP("Clip", S(1), C(0), C(6)),
        STEP("Mul", X, S(2)),
        STEP("Div", S(3), C(6)) } },
    { .name = "x * Clip(x + 3, 0, 6) / 6", .n_steps = 4, .steps = {
        STEP("Add", X, C(3)),
        STEP("Clip", S(0), C(0), C(6)),
        STEP("Div", S(1), C(6)),
        STEP("Mul", X, S(2)) } },
    { .name = "x * Clip(x + 3, 0, 6), then / 6", .n_steps = 4, .steps = {
        STEP("Add", X, C(3)),
        STEP("Clip", S(0), C(0), C(6)),
        STEP("Mul", X, S(1)),
        STEP("Div", S(2), C(6)) } },
    { .name = "x * Clip(x + 3, 0, 6) * (1/6)", .n_steps = 4, .steps = {
        STEP("Add", X, C(3)),
        STEP("Clip", S(0), C(0), C(6)),
        STEP("Mul", S(1), C(1.0 / 6.0)),
        STEP("Mul", X, S(2)) } },
    END,
};

const hl_op_pattern hl_patterns_gelu[] = {
    { .name = "x (1 + erf(x / sqrt 2)) * 0.5 (torch nn.GELU before opset 20)", .n_steps = 5, .steps = {
        STEP("Div", X, C(SQRT2)),
        STEP("Erf", S(0)),
        STEP("Add", S(1), C(1)),
        STEP("Mul", X, S(2)),
        STEP("Mul", S(3), C(0.5)) } },
    { .name = "x (1 + erf(x * (1 / sqrt 2))) * 0.5", .n_steps = 5, .steps = {
        STEP("Mul", X, C(1.0 / SQRT2)),
        STEP("Erf", S(0)),
        STEP("Add", S(1), C(1)),
        STEP("Mul", X, S(2)),
        STEP("Mul", S(3), C(0.5)) } },
    { .name = "0.5 x (1 + erf(x / sqrt 2))", .n_steps = 5, .steps = {
        STEP("Div", X, C(SQRT2)),
        STEP("Erf", S(0)),
        STEP("Add", S(1), C(1)),
        STEP("Mul", X, C(0.5)),
        STEP("Mul", S(3), S(2)) } },
    { .name = "tanh approximation, x*x*x (torch nn.GELU('tanh') before opset 20)", .n_steps = 9, .steps = {
        STEP("Mul", X, X),
        STEP("Mul", X, S(0)),
        STEP("Mul", S(1), C(0.044715)),
        STEP("Add", X, S(2)),
        STEP("Mul", S(3), C(SQRT_2_OVER_PI)),
        STEP("Tanh", S(4)),
        STEP("Add", S(5), C(1)),
        STEP("Mul", X, S(6)),
        STEP("Mul", S(7), C(0.5)) }, "approximate", "tanh" },
    { .name = "tanh approximation, Pow(x, 3)", .n_steps = 8, .steps = {
        STEP("Pow", X, C(3)),
        STEP("Mul", S(0), C(0.044715)),
        STEP("Add", X, S(1)),
        STEP("Mul", S(2), C(SQRT_2_OVER_PI)),
        STEP("Tanh", S(3)),
        STEP("Add", S(4), C(1)),
        STEP("Mul", X, S(5)),
        STEP("Mul", S(6), C(0.5)) }, "approximate", "tanh" },
    END,
};
