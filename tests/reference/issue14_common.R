# Shared helpers for the issue-14 reference scripts (formula_idioms, glmm_families,
# nlme_ar1, speed). Sourced by those scripts; run them from the repository root, e.g.
#     Rscript tests/reference/formula_idioms/idioms.R
suppressPackageStartupMessages({
  library(jsonlite)
})

# Package / platform versions recorded in every JSON.
versions_info <- function(pkgs = c("lme4", "nlme", "glmmTMB", "mlmRev", "Matrix", "minqa",
                                   "nloptr", "lmerTest", "pbkrtest", "jsonlite")) {
  si <- sessionInfo()
  v <- list(
    R = R.version.string,
    platform = R.version$platform,
    running = si$running,
    BLAS = si$BLAS,
    LAPACK = si$LAPACK,
    packages = list()
  )
  for (p in pkgs) {
    if (requireNamespace(p, quietly = TRUE)) {
      v$packages[[p]] <- as.character(packageVersion(p))
    }
  }
  v
}

# I() keeps length-1 vectors as JSON arrays under auto_unbox.
vec <- function(x) I(unname(x))
named <- function(x) list(names = vec(names(x)), values = vec(as.numeric(x)))

# Evaluate `expr`, collecting warnings and messages instead of printing them.
# Returns list(value, warnings, messages).
capture <- function(expr) {
  warns <- character(0)
  msgs <- character(0)
  value <- withCallingHandlers(
    expr,
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    },
    message = function(m) {
      msgs <<- c(msgs, sub("\n$", "", conditionMessage(m)))
      invokeRestart("muffleMessage")
    }
  )
  list(value = value, warnings = I(warns), messages = I(msgs))
}

# Time `expr` (elapsed seconds), capturing warnings.
timed <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  res <- capture(expr)
  res$seconds <- proc.time()[["elapsed"]] - t0
  res
}

vc_frame <- function(vc) {
  vc <- as.data.frame(vc)
  list(
    grp = vec(as.character(vc$grp)),
    var1 = vec(as.character(vc$var1)),
    var2 = vec(as.character(vc$var2)),
    vcov = vec(vc$vcov),
    sdcor = vec(vc$sdcor)
  )
}

# First n rows of a model matrix, column-wise, with R's column names.
mm_head <- function(X, n = 5) {
  X <- as.matrix(X)
  n <- min(n, nrow(X))
  list(
    columns = vec(colnames(X)),
    rows = lapply(seq_len(n), function(i) vec(X[i, ]))
  )
}

# anova() table as plain columns (row names = model names).
anova_frame <- function(a) {
  a <- as.data.frame(a)
  out <- list(model = vec(rownames(a)))
  for (nm in colnames(a)) out[[nm]] <- vec(a[[nm]])
  out
}

write_ref <- function(x, path) {
  jsonlite::write_json(x, path, digits = NA, auto_unbox = TRUE, pretty = TRUE,
                       na = "null", null = "null")
  cat("wrote", path, "\n")
}

# Factor levels of every factor column in a data frame (R's level order; first = reference).
factor_levels <- function(data) {
  out <- list()
  for (nm in names(data)) if (is.factor(data[[nm]])) out[[nm]] <- vec(levels(data[[nm]]))
  out
}

# ---------------------------------------------------------------------------------------
# lme4 (merMod) helpers
# ---------------------------------------------------------------------------------------

# PIRLS tolerance of the tight fits. lme4's tolPwrss = 1e-10 still leaves the Laplace
# deviance biased upwards by ~1e-4 on Contraception (fixef off by ~4e-5 relative);
# 1e-12 and 1e-14 agree with each other to ~1e-7.
TOL_PWRSS <- 1e-14

# Tight controls. Stage 1 = the bobyqa fit the brief asks for; the refinements restart
# from that optimum with other optimisers at tight tolerances; the best criterion wins.
lmer_tight <- function() {
  lme4::lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5, rhoend = 1e-10))
}
glmer_tight <- function(tol = TOL_PWRSS) {
  lme4::glmerControl(optimizer = c("bobyqa", "bobyqa"),
                     optCtrl = list(maxfun = 1e5, rhoend = 1e-10), tolPwrss = tol)
}
refine_controls <- function(glmm, tol = TOL_PWRSS) {
  nm <- list(FtolAbs = 1e-12, FtolRel = 1e-15, XtolRel = 1e-12, maxfun = 1e5)
  nl <- list(algorithm = "NLOPT_LN_BOBYQA", xtol_abs = 1e-12, ftol_abs = 1e-14,
             xtol_rel = 1e-12, ftol_rel = 1e-15, maxeval = 1e5)
  if (glmm) {
    list(
      Nelder_Mead = lme4::glmerControl(optimizer = "Nelder_Mead", optCtrl = nm,
                                       tolPwrss = tol),
      nloptwrap = lme4::glmerControl(optimizer = "nloptwrap", optCtrl = nl,
                                     tolPwrss = tol)
    )
  } else {
    list(
      Nelder_Mead = lme4::lmerControl(optimizer = "Nelder_Mead", optCtrl = nm),
      nloptwrap = lme4::lmerControl(optimizer = "nloptwrap", optCtrl = nl)
    )
  }
}
control_text <- function(glmm, tol = TOL_PWRSS) {
  if (glmm) {
    paste0("glmerControl(optimizer = c('bobyqa', 'bobyqa'), optCtrl = list(maxfun = 1e5, ",
           "rhoend = 1e-10), tolPwrss = ", format(tol), "); then refits from that optimum with ",
           "Nelder_Mead (FtolAbs 1e-12, FtolRel 1e-15, XtolRel 1e-12) and nloptwrap ",
           "(NLOPT_LN_BOBYQA, xtol_abs 1e-12, ftol_abs 1e-14), same tolPwrss ",
           "(start = list(theta, fixef) of the bobyqa fit); every candidate's criterion is ",
           "re-evaluated with a fresh devFunOnly deviance function at its parameters and the ",
           "lowest consistent one (reported == fresh within 1e-7) is kept")
  } else {
    paste0("lmerControl(optimizer = 'bobyqa', optCtrl = list(maxfun = 1e5, rhoend = 1e-10)); ",
           "then refits from that optimum with Nelder_Mead (FtolAbs 1e-12, FtolRel 1e-15, ",
           "XtolRel 1e-12) and nloptwrap (NLOPT_LN_BOBYQA, xtol_abs 1e-12, ftol_abs 1e-14); ",
           "every candidate's criterion is re-evaluated with a fresh devFunOnly deviance ",
           "function and the lowest consistent one is kept")
  }
}

mer_criterion <- function(fit) {
  if (lme4::isREML(fit)) lme4::REMLcrit(fit) else -2 * as.numeric(logLik(fit))
}

conv_info <- function(fit) {
  d <- fit@optinfo$derivs
  scaled <- NULL
  if (!is.null(d$Hessian)) {
    scaled <- tryCatch(max(abs(solve(d$Hessian, d$gradient))), error = function(e) NULL)
  }
  list(
    optimizer = fit@optinfo$optimizer,
    "fit@optinfo$conv$opt" = fit@optinfo$conv$opt,
    "fit@optinfo$conv$lme4$messages" = vec(as.character(unlist(fit@optinfo$conv$lme4$messages))),
    "fit@optinfo$feval" = fit@optinfo$feval,
    "max(abs(gradient))" = if (is.null(d$gradient)) NULL else max(abs(d$gradient)),
    "max(abs(solve(Hessian, gradient)))" = scaled
  )
}

# Everything recorded for one merMod fit.
mer_info <- function(fit, mm_rows = 5) {
  glmm <- lme4::isGLMM(fit)
  cs <- coef(summary(fit))
  V <- as.matrix(vcov(fit))
  ll <- logLik(fit)
  out <- list(
    "nobs(fit)" = nobs(fit),
    "ngrps(fit)" = as.list(lme4::ngrps(fit)),
    "isREML(fit)" = lme4::isREML(fit),
    "fixef(fit)" = named(lme4::fixef(fit)),
    "sqrt(diag(vcov(fit)))" = named(sqrt(diag(V))),
    "coef(summary(fit))" = list(
      term = vec(rownames(cs)),
      columns = vec(colnames(cs)),
      Estimate = vec(cs[, 1]),
      "Std. Error" = vec(cs[, 2]),
      statistic = vec(cs[, 3]),
      "Pr(>|z|)" = if (ncol(cs) >= 4) vec(cs[, 4]) else NULL
    ),
    "as.matrix(vcov(fit))" = unname(V),
    "getME(fit, 'theta')" = named(lme4::getME(fit, "theta")),
    "getME(fit, 'lower')" = vec(lme4::getME(fit, "lower")),
    "getME(fit, 'cnms')" = lapply(lme4::getME(fit, "cnms"), as.list),
    "names(getME(fit, 'flist'))" = vec(names(lme4::getME(fit, "flist"))),
    "as.data.frame(VarCorr(fit))" = vc_frame(lme4::VarCorr(fit)),
    "sigma(fit)" = sigma(fit),
    "as.numeric(logLik(fit))" = as.numeric(ll),
    "attr(logLik(fit), 'df')" = attr(ll, "df"),
    "AIC(fit)" = AIC(fit),
    "BIC(fit)" = BIC(fit),
    "isSingular(fit)" = lme4::isSingular(fit),
    "colnames(model.matrix(fit))" = vec(colnames(model.matrix(fit))),
    "model.matrix(fit)[1:5, ]" = mm_head(model.matrix(fit), mm_rows),
    convergence = conv_info(fit)
  )
  if (lme4::isREML(fit)) {
    out[["REMLcrit(fit)"]] <- lme4::REMLcrit(fit)
  } else {
    out[["deviance(fit)"]] <- deviance(fit)
    out[["-2 * logLik(fit)"]] <- -2 * as.numeric(ll)
  }
  if (glmm) {
    fam <- family(fit)
    out[["family(fit)$family"]] <- fam$family
    out[["family(fit)$link"]] <- fam$link
    out[["fit@devcomp$dims[['nAGQ']]"]] <- unname(fit@devcomp$dims[["nAGQ"]])
    vh <- capture(as.matrix(vcov(fit, use.hessian = FALSE)))
    out[["sqrt(diag(vcov(fit, use.hessian = FALSE)))"]] <- named(sqrt(diag(vh$value)))
    out[["vcov(fit, use.hessian = FALSE) warnings"]] <- vh$warnings
    out[["vcov uses Hessian"]] <- !is.null(fit@optinfo$derivs$Hessian)
    out[["sum(residuals(fit, 'deviance')^2)"]] <- sum(residuals(fit, type = "deviance")^2)
    out[["unname(fitted(fit))[1:5]"]] <- vec(fitted(fit)[1:5])
    out[["unname(predict(fit, type = 'link'))[1:5]"]] <- vec(predict(fit, type = "link")[1:5])
  } else {
    out[["unname(fitted(fit))[1:5]"]] <- vec(fitted(fit)[1:5])
  }
  out
}

# glmer's default vcov() inverts a finite-difference Hessian (lme4:::deriv12, step 1e-4)
# of the Laplace/AGQ deviance over (theta, beta). The PIRLS inside each evaluation makes
# that deviance slightly rough, so a single finite-difference Hessian is noisy: SEs of
# poorly scaled coefficients can be off by ~0.5%. Here numDeriv's Richardson Hessian is
# computed with five relative steps d = 0.001, 0.003, 0.01, 0.03, 0.1 and the SE taken as
# the per-coefficient MEDIAN of the five (one bad step cannot move it). Where glmmTMB fits
# the same likelihood (Laplace, canonical link) its exact-AD SE is the better check.
ACC_STEPS <- c(0.001, 0.003, 0.01, 0.03, 0.1)
accurate_se <- function(devfun, pars, ntheta, fe_names, se_lme4) {
  i <- -seq_len(ntheta)
  ses <- list()
  for (d in ACC_STEPS) {
    H <- tryCatch(numDeriv::hessian(devfun, pars, method.args = list(d = d, r = 4, zero.tol = 1e-8)),
                  error = function(e) NULL)
    V <- if (is.null(H)) NULL else tryCatch(2 * solve(H), error = function(e) NULL)
    if (!is.null(V) && all(diag(V) > 0)) ses[[format(d)]] <- sqrt(diag(V))
  }
  devfun(pars)  # leave the deviance function at the optimum
  if (length(ses) < 3) return(list("accurate Hessian" = "Hessian not usable: not computed"))
  S <- do.call(rbind, ses)
  med <- apply(S, 2, median)
  spread <- apply(abs(sweep(S, 2, med)) / rep(med, each = nrow(S)), 2, sort)
  list(
    "SE from accurate Hessian (median over numDeriv steps)" =
      list(names = vec(fe_names), values = vec(med[i])),
    "SE of theta from accurate Hessian (median)" = vec(med[seq_len(ntheta)]),
    "numDeriv steps d" = vec(as.numeric(names(ses))),
    "SE per numDeriv step (rows = steps; theta then beta)" = unname(S),
    "median-step spread: 3rd smallest relative deviation from the median, max over coefficients" =
      max(if (is.matrix(spread)) spread[min(3, nrow(spread)), ] else spread),
    "max relative difference, sqrt(diag(vcov(fit))) vs accurate-Hessian SE" =
      max(abs(se_lme4 - med[i]) / med[i])
  )
}

# Re-evaluate a fit's call with argument VALUES spliced in (not symbols, so no lookup in
# the wrong environment).
refit_call <- function(fit, env, ...) {
  cl <- getCall(fit)
  args <- list(...)
  for (a in names(args)) cl[[a]] <- args[[a]]
  eval(cl, envir = env)
}

# Fit `call_text` (evaluated in `env`) with lme4's defaults and with the tight settings,
# refine, and return the best tight fit plus the record of every candidate.
fit_mer <- function(call_text, env = globalenv(), refine = TRUE) {
  default <- timed(eval(parse(text = call_text), envir = env))
  d0 <- default$value
  if (!lme4::isGLMM(d0)) return(fit_mer_tol(call_text, env, refine, default, NULL))
  # tolPwrss 1e-14 where PIRLS can reach it; else 1e-13, 1e-12 (large data sets).
  for (tol in c(1e-14, 1e-13, 1e-12, 1e-10)) {
    r <- tryCatch(fit_mer_tol(call_text, env, refine, default, tol), error = function(e) e)
    if (!inherits(r, "error")) {
      r$record[["tolPwrss"]] <- tol
      return(r)
    }
    message("tolPwrss ", tol, " failed: ", conditionMessage(r))
  }
  stop(r)
}

fit_mer_tol <- function(call_text, env, refine, default, tol) {
  d0 <- default$value
  glmm <- lme4::isGLMM(d0)
  ctl <- if (glmm) glmer_tight(tol) else lmer_tight()
  tight <- timed(refit_call(d0, env, control = ctl))
  cands <- list(bobyqa = tight)
  if (refine) {
    nagq <- if (glmm) d0@devcomp$dims[["nAGQ"]] else 1
    fit1 <- tight$value
    for (nm in names(rc <- refine_controls(glmm, tol))) {
      ctl_r <- rc[[nm]]
      start <- if (glmm && nagq > 0) {
        list(theta = lme4::getME(fit1, "theta"), fixef = lme4::fixef(fit1))
      } else {
        lme4::getME(fit1, "theta")
      }
      r <- try(timed(refit_call(d0, env, control = ctl_r, start = start)), silent = TRUE)
      if (!inherits(r, "try-error")) cands[[nm]] <- r
    }
  }
  # Fresh deviance function: lme4 can leave a refitted object's internal state (and so
  # its reported logLik) out of step with its parameters; re-evaluate every candidate.
  devfun <- refit_call(d0, env, control = ctl, devFunOnly = TRUE)
  pars_of <- function(f) {
    if (glmm && f@devcomp$dims[["nAGQ"]] > 0) c(lme4::getME(f, "theta"), lme4::fixef(f))
    else lme4::getME(f, "theta")
  }
  fresh <- sapply(cands, function(r) devfun(pars_of(r$value)))
  crit <- sapply(cands, function(r) mer_criterion(r$value))
  consistent <- abs(fresh - crit) < 1e-7
  if (!any(consistent)) stop("no candidate has a consistent criterion: ", call_text)
  best <- names(which.min(ifelse(consistent, fresh, Inf)))
  bf <- cands[[best]]$value
  fe_best <- lme4::fixef(bf)
  se_best <- sqrt(diag(as.matrix(vcov(bf))))
  cand_rec <- lapply(names(cands), function(nm) {
    f <- cands[[nm]]$value
    list(
      optimizer = nm,
      criterion = mer_criterion(f),
      "criterion re-evaluated by a fresh devfun" = unname(fresh[[nm]]),
      "fixef(fit)" = vec(lme4::fixef(f)),
      "getME(fit, 'theta')" = vec(lme4::getME(f, "theta")),
      "sqrt(diag(vcov(fit)))" = vec(sqrt(diag(as.matrix(vcov(f))))),
      "max relative fixef difference from best" =
        max(abs(lme4::fixef(f) - fe_best) / pmax(abs(fe_best), 1e-8)),
      "max abs fixef difference / SE" = max(abs(lme4::fixef(f) - fe_best) / se_best),
      "max relative SE difference from best" =
        max(abs(sqrt(diag(as.matrix(vcov(f)))) - se_best) / se_best),
      warnings = cands[[nm]]$warnings,
      messages = cands[[nm]]$messages,
      "fit@optinfo$conv$lme4$messages" = vec(as.character(unlist(f@optinfo$conv$lme4$messages))),
      seconds = cands[[nm]]$seconds
    )
  })
  info <- mer_info(bf)
  if (glmm && bf@devcomp$dims[["nAGQ"]] > 0) {
    info <- c(info, accurate_se(devfun, pars_of(bf), length(lme4::getME(bf, "theta")),
                                names(lme4::fixef(bf)), sqrt(diag(as.matrix(vcov(bf))))))
  }
  list(
    best = bf,
    best_name = best,
    default = default,
    devfun = devfun,
    info = info,
    record = list(
      "criterion" = if (lme4::isREML(bf)) "REMLcrit(fit)" else "-2 * logLik(fit)",
      "control (tight)" = control_text(glmm, tol),
      "best optimizer" = best,
      "candidates" = cand_rec,
      "warnings (tight bobyqa fit)" = tight$warnings,
      "messages (tight bobyqa fit)" = tight$messages,
      "default fit" = list(
        call = call_text,
        criterion = mer_criterion(d0),
        "fixef(fit)" = named(lme4::fixef(d0)),
        "sqrt(diag(vcov(fit)))" = named(sqrt(diag(as.matrix(vcov(d0))))),
        "getME(fit, 'theta')" = named(lme4::getME(d0, "theta")),
        warnings = default$warnings,
        messages = default$messages,
        "fit@optinfo$conv$lme4$messages" = vec(as.character(unlist(d0@optinfo$conv$lme4$messages))),
        seconds = default$seconds
      )
    )
  )
}

# ---------------------------------------------------------------------------------------
# glmmTMB helpers
# ---------------------------------------------------------------------------------------

# VarCorr(fit)$cond in the long layout of lme4's as.data.frame(VarCorr()): per group the
# variances first, then the covariances of the lower triangle (column by column).
tmb_vc_frame <- function(fit) {
  vc <- glmmTMB::VarCorr(fit)$cond
  grp <- var1 <- var2 <- character(0)
  vcv <- sdc <- numeric(0)
  for (g in names(vc)) {
    m <- vc[[g]]
    sds <- attr(m, "stddev")
    cr <- attr(m, "correlation")
    nms <- colnames(m)
    for (i in seq_along(nms)) {
      grp <- c(grp, g); var1 <- c(var1, nms[i]); var2 <- c(var2, NA)
      vcv <- c(vcv, m[i, i]); sdc <- c(sdc, sds[i])
    }
    if (length(nms) > 1) {
      for (j in 1:(length(nms) - 1)) for (i in (j + 1):length(nms)) {
        grp <- c(grp, g); var1 <- c(var1, nms[j]); var2 <- c(var2, nms[i])
        vcv <- c(vcv, m[i, j]); sdc <- c(sdc, cr[i, j])
      }
    }
  }
  list(grp = vec(grp), var1 = vec(var1), var2 = vec(var2), vcov = vec(vcv), sdcor = vec(sdc))
}

tmb_info <- function(fit) {
  cs <- summary(fit)$coefficients$cond
  V <- vcov(fit)$cond
  ll <- logLik(fit)
  list(
    "nobs(fit)" = nobs(fit),
    "fixef(fit)$cond" = named(glmmTMB::fixef(fit)$cond),
    "sqrt(diag(vcov(fit)$cond))" = named(sqrt(diag(V))),
    "summary(fit)$coefficients$cond" = list(
      term = vec(rownames(cs)), Estimate = vec(cs[, 1]), "Std. Error" = vec(cs[, 2]),
      "z value" = vec(cs[, 3]), "Pr(>|z|)" = vec(cs[, 4])
    ),
    "vcov(fit)$cond" = unname(V),
    "VarCorr(fit)$cond (lme4 long layout)" = tmb_vc_frame(fit),
    "family(fit)$family" = family(fit)$family,
    "family(fit)$link" = family(fit)$link,
    "sigma(fit)" = sigma(fit),
    "as.numeric(logLik(fit))" = as.numeric(ll),
    "attr(logLik(fit), 'df')" = attr(ll, "df"),
    "AIC(fit)" = AIC(fit),
    "BIC(fit)" = BIC(fit),
    "fit$fit$convergence" = fit$fit$convergence,
    "fit$fit$message" = fit$fit$message,
    "fit$sdr$pdHess" = fit$sdr$pdHess,
    "fit$fit$par" = named(fit$fit$par)
  )
}

tmb_control_tight <- function() {
  glmmTMB::glmmTMBControl(optCtrl = list(iter.max = 1e4, eval.max = 1e4, rel.tol = 1e-14,
                                         x.tol = 1e-12))
}

# glmer call -> the same call for glmmTMB (Laplace only; NULL for nAGQ > 1).
tmb_call_of <- function(call) {
  if (grepl("nAGQ", call)) return(NULL)
  sub("^glmer\\(", "glmmTMB(", call)
}

fit_tmb <- function(call) {
  def <- timed(eval(parse(text = call)))
  cl <- getCall(def$value)
  cl$control <- tmb_control_tight()
  tight <- timed(eval(cl))
  ll <- c(default = as.numeric(logLik(def$value)), tight = as.numeric(logLik(tight$value)))
  # the tight fit only if it improves logLik by > 1e-8 (its nlminb often ends with a
  # harmless "singular convergence (7)" warning when it cannot improve)
  best <- if (is.finite(ll[["tight"]]) && ll[["tight"]] > ll[["default"]] + 1e-8) tight else def
  list(
    fit = best$value,
    record = list(
      call = call,
      "chosen" = if (identical(best, tight)) "tight" else "default",
      "tight control" = paste("glmmTMBControl(optCtrl = list(iter.max = 1e4, eval.max = 1e4,",
                              "rel.tol = 1e-14, x.tol = 1e-12))"),
      "logLik default / tight" = vec(ll),
      "warnings (default)" = def$warnings,
      "warnings (tight)" = tight$warnings,
      seconds = best$seconds
    )
  )
}

compare_tmb <- function(info_glmer, info_tmb) {
  fe_g <- info_glmer[["fixef(fit)"]]$values
  fe_t <- info_tmb[["fixef(fit)$cond"]]$values
  se_g <- info_glmer[["sqrt(diag(vcov(fit)))"]]$values
  se_t <- info_tmb[["sqrt(diag(vcov(fit)$cond))"]]$values
  se_a <- info_glmer[["SE from accurate Hessian (median over numDeriv steps)"]]$values
  out <- list(
    "max relative fixef difference (glmer vs glmmTMB)" = max(abs(fe_g - fe_t) / abs(fe_t)),
    "max abs fixef difference / SE (glmer vs glmmTMB)" = max(abs(fe_g - fe_t) / se_t),
    "max relative SE difference (lme4 sqrt(diag(vcov(fit))) vs glmmTMB)" = max(abs(se_g - se_t) / se_t),
    "logLik difference (glmer - glmmTMB)" =
      info_glmer[["as.numeric(logLik(fit))"]] - info_tmb[["as.numeric(logLik(fit))"]]
  )
  if (!is.null(se_a)) {
    out[["max relative SE difference (accurate-Hessian SE vs glmmTMB)"]] <- max(abs(se_a - se_t) / se_t)
  }
  out
}

