"""'What am I looking at?': a short explanation of each view, written for students.

Plain data (title, what is plotted, the formula, what healthy and unhealthy look
like), shown by the "?" button on each view and listed by Help → What am I
looking at?  The notation is the course notes': z = W·a + b, a = σ(z), C the
cost, δ = ∂C/∂z.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Explanation:
    title: str
    plotted: str
    formula: str
    healthy: str
    unhealthy: str

    def text(self) -> str:
        """The explanation as plain text, one paragraph per part."""
        return (f"{self.title}\n\n{self.plotted}\n\nFormula: {self.formula}\n\n"
                f"Healthy: {self.healthy}\n\nUnhealthy: {self.unhealthy}")


EXPLANATIONS = {
    "loss": Explanation(
        "Loss and accuracy",
        "The cost C averaged over the training batches (solid) and over the validation "
        "set, which the network never trains on (dashed), against epochs; below, the "
        "fraction of samples classified right. Pinned runs are drawn fainter to compare.",
        "C = (1/n) Σ cost(ŷ, y); cross-entropy C = −Σ y·log ŷ, mean squared error "
        "C = ½ Σ (ŷ − y)².",
        "both curves fall, fast at first then slowly, and stay close together.",
        "a flat line from the start (gradients vanish, or η far too small); a jagged or "
        "rising curve (η too large: the loss blowing up means the learning rate is too "
        "large); validation rising while training keeps falling (overfitting: try L2, "
        "dropout or more data)."),
    "gradient": Explanation(
        "Gradients per layer",
        "How large each weighted layer's gradient is, one line per layer (first layer "
        "darkest), on a log scale, and below the same for the latest step as bars. "
        "'weight gradient' plots ‖∂C/∂W_l‖; 'back-propagated gradient' plots ‖δ_l‖ = "
        "‖∂C/∂z_l‖, the error signal back propagation carries down to layer l.",
        "δ_l = (W_{l+1}ᵀ δ_{l+1}) ⊙ σ′(z_l) and ∂C/∂W_l = δ_l a_{l−1}ᵀ: each layer "
        "multiplies the signal by its weights and by σ′.",
        "the layers' lines lie within a factor of about 10 of each other.",
        "the first layers' lines far below the last ones (vanishing gradients: sigmoid "
        "has σ′ ≤ 0.25, so each layer shrinks δ; try ReLU with He initialisation), or "
        "growing layer by layer and shooting up (exploding: initial weights too large)."),
    "activation": Explanation(
        "Activations",
        "For each layer, the distribution of its outputs a = σ(z) over a batch, and the "
        "fraction of units that are saturated (sigmoid/tanh near their flat ends) or "
        "dead (ReLU always 0).",
        "a_l = σ(z_l), z_l = W_l a_{l−1} + b_l.",
        "spread-out activations in every layer, few saturated or dead units (Glorot and "
        "He initialisations are chosen to keep the spread the same in every layer).",
        "everything piled at 0 and 1 for sigmoid (saturation: σ′ ≈ 0, no learning), a "
        "spread shrinking layer by layer to a spike (too-small weights), or most ReLU "
        "units dead (η too large, or a bad initialisation)."),
    "output": Explanation(
        "Output",
        "What the network predicts: for 2-D data the decision boundary, coloured by the "
        "predicted class, with the training and validation points on top (click a point "
        "to open it in the back-propagation inspector); for regression the fitted curve; "
        "for images a confusion matrix.",
        "ŷ = a_L, the last layer's output; the predicted class is argmax ŷ.",
        "the boundary bends round the data and the points sit on their own colour.",
        "a boundary that never moves (no learning), or one that wraps every single "
        "training point in its own island (overfitting)."),
    "network": Explanation(
        "Network diagram",
        "The layers from input (left) to output (right). Lines are weights: blue "
        "positive, orange negative, thicker for larger |w|. Wide layers show their first "
        "and last units, with '+N' for the units in between; convolution, pooling and "
        "flatten layers are blocks with their output shapes.",
        "z_l = W_l a_{l−1} + b_l; a layer of n_in inputs and n_out units has "
        "n_in·n_out + n_out parameters.",
        "a mix of colours and thicknesses that changes as the network learns.",
        "all lines thin and faint (weights shrinking, e.g. too much L2) or a few huge "
        "ones (weights blowing up)."),
    "conv": Explanation(
        "Convolution",
        "One image going through the convolution layers: each filter's kernel and its "
        "feature map, the image after the activation and after pooling.",
        "feature map (i, j) = Σ_c Σ_(u,v) K[c, u, v] · x[c, i·S + u, j·S + v] + b; output "
        "size (W − K + 2P)/S + 1.",
        "varied kernels (edge and blob detectors) whose maps highlight different parts "
        "of the image.",
        "maps that are all 0 (dead ReLU filters) or all alike (filters that learned the "
        "same thing), kernels that stay random noise."),
    "runs": Explanation(
        "Runs",
        "Every run you pinned to compare, with its colour, final validation accuracy and "
        "loss. Pinned runs stay on the curves when you change the experiment.",
        "accuracy = correct predictions / validation samples.",
        "change one thing at a time between runs, so the difference has one cause.",
        "runs that differ in many settings at once: you cannot tell which one helped."),
    "playground": Explanation(
        "Kernel playground",
        "One kernel applied to one image: input → feature map → activation → pooling, "
        "each stage with its size. Hover the feature map to see the window of inputs "
        "and the sum behind one pixel. \"Use as the first kernel of my CNN\" starts the "
        "model's first conv layer from this kernel; frozen, it stays this edge or blur "
        "detector while the layers after it learn.",
        "out(i, j) = Σ_(u,v) K[u, v] · x[i·S + u, j·S + v]; size (W − K + 2P)/S + 1.",
        "a blur's weights sum to 1 (brightness kept); an edge detector's sum to 0 "
        "(flat regions give 0, edges light up).",
        "a kernel whose weights sum far from 0 or 1 brightens or darkens the whole "
        "image; stride larger than the kernel skips pixels entirely."),
    "inspector": Explanation(
        "Back-propagation inspector",
        "One sample's numbers: each neuron's z and a on the forward pass, and δ on the "
        "backward pass; click a neuron for its chain-rule step written out.",
        "δ_L = ∂C/∂a ⊙ σ′(z_L) (= a − y for softmax with cross-entropy), "
        "δ_l = (W_{l+1}ᵀ δ_{l+1}) ⊙ σ′(z_l), ∂C/∂W_l = δ_l a_{l−1}ᵀ, ∂C/∂b_l = δ_l.",
        "δ of a similar size in every layer.",
        "δ shrinking towards 0 layer by layer on the way back (vanishing gradients)."),
}
