# Kenward-Roger reference values for engagestats.models (pbkrtest via lmerTest).
#
# Run from the repository root (after tests/reference/kr/make_data.py):
#     Rscript tests/reference/kr/kr.R
# Writes tests/reference/kr/kr.json. Every number sits under a key naming the R
# expression that produced it (`fit` is the REML fit named by the enclosing keys,
# `L` the contrast matrix stored next to it, `rhs` its null values).
suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(pbkrtest)
  library(jsonlite)
})

here <- "tests/reference/kr"
sleep_csv <- "tests/reference/lme4/sleepstudy.csv"
sleepstudy <- read.csv(sleep_csv, stringsAsFactors = TRUE)
sleepstudy$Subject <- factor(sleepstudy$Subject)
stopifnot(isTRUE(all.equal(sleepstudy$Reaction, lme4::sleepstudy$Reaction)))
threelevel <- read.csv(file.path(here, "threelevel_small.csv"), stringsAsFactors = TRUE)

# Tight optimiser tolerances so that the variance components (and hence everything
# Kenward-Roger computes from them) are pinned down to ~1e-7.
ctl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5))

KR <- "Kenward-Roger"

coef_kr <- function(fit) {
  cs <- summary(fit, ddf = KR)$coefficients
  list(
    term = rownames(cs), estimate = unname(cs[, "Estimate"]), se = unname(cs[, "Std. Error"]),
    df = unname(cs[, "df"]), t = unname(cs[, "t value"]), p = unname(cs[, "Pr(>|t|)"])
  )
}

joint_kr <- function(fit, L, rhs) {
  ct <- contest(fit, L, rhs = rhs, ddf = KR, joint = TRUE)
  list(
    sum_sq = ct[["Sum Sq"]], mean_sq = ct[["Mean Sq"]], num_df = ct[["NumDF"]],
    den_df = ct[["DenDF"]], f = ct[["F value"]], p = ct[["Pr(>F)"]]
  )
}

rows_kr <- function(fit, L, rhs) {
  # contest(joint = FALSE) accepts only a scalar rhs, so call contest1D row by row.
  ct <- do.call(rbind, lapply(seq_len(nrow(L)), function(i) {
    contest1D(fit, L[i, ], rhs = rhs[i], ddf = KR)
  }))
  list(
    estimate = ct[["Estimate"]], se = ct[["Std. Error"]], df = ct[["df"]],
    t = ct[["t value"]], p = ct[["Pr(>|t|)"]]
  )
}

krmodcomp <- function(fit, L) {
  te <- KRmodcomp(fit, L)$test
  list(
    stat = te["Ftest", "stat"], ndf = te["Ftest", "ndf"], ddf = te["Ftest", "ddf"],
    F.scaling = te["Ftest", "F.scaling"], p.value = te["Ftest", "p.value"],
    statU = te["FtestU", "stat"]
  )
}

models <- list(
  sleepstudy = list(
    data = "../lme4/sleepstudy.csv",
    formula = "Reaction ~ Days + (Days | Subject)",
    frame = sleepstudy,
    L = rbind(c(1, 5), c(0, 1)),
    rhs = c(300, 10)
  ),
  threelevel_small = list(
    data = "threelevel_small.csv",
    formula = "phq ~ session * readiness + (1 + session | client) + (1 | therapist)",
    frame = threelevel,
    L = rbind(c(1, 4, 0, 0), c(0, 0, 1, 4)),
    rhs = c(12, -2)
  ),
  threelevel_uncorrelated = list(
    data = "threelevel_small.csv",
    formula = "phq ~ session * readiness + (1 + session || client) + (1 | therapist)",
    frame = threelevel,
    L = rbind(c(0, 1, 0, 0), c(0, 0, 0, 1)),
    rhs = c(-1, 0)
  )
)

out <- list(
  versions = list(
    R = paste(R.version$major, R.version$minor, sep = "."),
    lme4 = as.character(packageVersion("lme4")),
    lmerTest = as.character(packageVersion("lmerTest")),
    pbkrtest = as.character(packageVersion("pbkrtest"))
  ),
  control = "ctl <- lmerControl(optimizer = \"bobyqa\", optCtrl = list(rhoend = 1e-10, maxfun = 1e5))",
  models = list()
)

for (name in names(models)) {
  m <- models[[name]]
  fit <- lmer(as.formula(m$formula), data = m$frame, REML = TRUE, control = ctl)
  L <- m$L
  rhs <- m$rhs
  timing <- system.time(for (i in 1:5) vcovAdj(fit))[["elapsed"]] / 5
  out$models[[name]] <- list(
    data = m$data,
    formula = m$formula,
    fit = "lmer(formula, data, REML = TRUE, control = ctl)",
    "getME(fit, \"theta\")" = unname(getME(fit, "theta")),
    "sigma(fit)" = sigma(fit),
    "fixef(fit)" = unname(fixef(fit)),
    "vcov(fit)" = unname(as.matrix(vcov(fit))),
    "summary(fit, ddf = \"Kenward-Roger\")$coefficients" = coef_kr(fit),
    "as.matrix(vcovAdj(fit))" = unname(as.matrix(vcovAdj(fit))),
    "attr(vcovAdj(fit), \"W\")" = unname(as.matrix(attr(vcovAdj(fit), "W"))),
    L = L,
    rhs = rhs,
    "contest(fit, L, rhs = rhs, ddf = \"Kenward-Roger\", joint = TRUE)" = joint_kr(fit, L, rhs),
    "contest1D(fit, L[i, ], rhs = rhs[i], ddf = \"Kenward-Roger\") for each row i" =
      rows_kr(fit, L, rhs),
    "contest(fit, L, ddf = \"Kenward-Roger\", joint = TRUE)" = joint_kr(fit, L, 0),
    "KRmodcomp(fit, L)$test" = krmodcomp(fit, L),
    "system.time(vcovAdj(fit)) elapsed seconds" = timing
  )
}

writeLines(
  toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, matrix = "rowmajor"),
  file.path(here, "kr.json")
)
