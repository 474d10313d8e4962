"""The zoo's names and one-line descriptions, readable without TVM.

:mod:`workloads.models` builds each model with TVM Relax and takes its description from here;
``cimsim workloads`` lists the zoo from here alone, so that listing it imports neither TVM nor
any model (tests/test_workloads.py checks that both name the same models).
"""

from __future__ import annotations

DESCRIPTIONS: dict[str, str] = {
    "mlp": "MLP 784-512-512-10 with ReLU between layers; input (batch, 784).",
    "lenet5": "LeNet-5 on 1x28x28: conv 6@5x5 pad 2, pool 2, conv 16@5x5, pool 2, fc 120, 84, 10, ReLU.",
    "vgg8": "NeuroSim's CIFAR-10 VGG-8: 3x3 convs 128,128,M,256,256,M,512,512,M, fc 1024, 10; "
            "no biases (as NeuroSim's QConv2d/QLinear).",
    "resnet18": "ImageNet ResNet-18 (He et al. 2016), batch norm folded into the convs' weights and biases "
                "(no BN ops); 1x1 projection shortcuts; 1.814 G MACs.",
    "bert-base-layer": "One BERT-base encoder layer (post-LN): hidden 768, 12 heads, FFN 3072, GELU; attention as "
                       "explicit matmuls; input (batch, seq_len, 768).",
    "bert-base": "BERT-base encoder: layers (12) post-LN encoder layers as bert-base-layer, hidden 768, 12 heads, "
                 "FFN 3072, GELU; input (batch, seq_len = 128, 768).",
    "gpt2-decode": "GPT-2 small, one decoding step: pre-LN layers with a constant random KV cache of kv_len "
                   "tokens, final layernorm and LM head; input the embedded token (batch, 768).",
    "gpt2-small-decode": "GPT-2 small generating text: prefill of the prompt (128 tokens) through 12 pre-LN layers, "
                         "then one decode step per generated token (32), each reading a KV cache one token longer; "
                         "input the embedded prompt (batch, prompt, 768).",
    "digits-mlp": "Digits MLP 64-64-10, ReLU, trained on 8x8 handwritten digits (workloads.digits); "
                  "input (batch, 64) in [0, 1].",
    "digits-cnn": "Digits CNN, trained on 8x8 handwritten digits (workloads.digits): conv 16@3x3 pad 1, ReLU, "
                  "max pool 2, conv 32@3x3 pad 1, ReLU, max pool 2, fc 10; input (batch, 1, 8, 8) in [0, 1].",
}
"""Model name -> what it is, in one line."""
