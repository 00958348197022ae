"""SVM probe with TS2Vec's protocol (Yue et al. 2022, official `fit_svm`), the classifier its
published UCR/UEA accuracies use: an RBF SVC on the raw representations, C picked by 5-fold
grid search over 1e-4..1e4 and infinity, or C = infinity outright when the training set is too
small to cross-validate (under 50 samples or under 5 per class). Training sets above 10,000
samples are subsampled (stratified, seed 0), as there."""

from __future__ import annotations

import numpy as np
import torch

from sslctl.eval import ProbeData

C_GRID = [1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000, 10000, np.inf]
MAX_SAMPLES = 10000


def svm_top1(
    train: torch.Tensor, train_y: torch.Tensor, test: torch.Tensor, test_y: torch.Tensor
) -> tuple[float, float]:
    """Returns (test top-1 %, chosen C)."""
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.svm import SVC

    x, y = train.double().cpu().numpy(), train_y.cpu().numpy()
    n_classes = len(np.unique(y))
    if len(y) // n_classes < 5 or len(y) < 50:
        model = SVC(C=np.inf, gamma="scale").fit(x, y)
    else:
        if len(y) > MAX_SAMPLES:
            x, _, y, _ = train_test_split(x, y, train_size=MAX_SAMPLES, random_state=0, stratify=y)
        search = GridSearchCV(SVC(gamma="scale"), {"C": C_GRID}, cv=5, n_jobs=1)
        model = search.fit(x, y).best_estimator_
    pred = model.predict(test.double().cpu().numpy())
    return 100.0 * float((pred == test_y.cpu().numpy()).mean()), float(model.C)


def svm_protocol(data: ProbeData) -> dict:
    """TS2Vec's RBF-SVM protocol: top-1 % and the chosen C."""
    top1, c = svm_top1(data.train, data.train_y, data.test, data.test_y)
    return {"svm_top1": top1, "svm_c": c}
